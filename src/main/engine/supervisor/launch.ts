// Starting QEMU: preflight, spawn detached (its own session, stdio to qemu.log) so the VM
// outlives the app, then attach over QMP. A failed start is an error carrying QEMU's own words.
import { appendFileSync, closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { VmConfig } from '../../../shared/vm';
import type { HostInfo } from '../../../shared/host';
import { HangarError } from '../../../shared/errors';
import { checkSocketPaths, ensureRuntimeDir, type VmPaths } from '../config/paths';
import { buildArgv } from '../qemu/argv';
import { QmpClient } from '../qmp';
import { QemuInstance } from './instance';
import { qemuErrorLines } from './logs';
import { LogWriter, rotateAtStart } from './log-writer';
import { checkFiles, checkPorts, explainStartFailure, recheckExternal } from './preflight';
import { recheckShare } from '../share/folder';
import { writeSmbConf } from '../share/smb-conf';
import type { PathPolicy } from '../policy/paths';
import { isOurQemu, qemusByPidFile, readPidFile } from './proc';
import { startSwtpm } from './tpm';
import { spawnPrivate, tightenModes } from './private';

/** Written to serial.log before each start, so readers can find the output of the latest boot. */
export const SERIAL_START_MARK = '\n[hangar: VM started]\n';

/**
 * The serial log's text since the VM's latest start. The mark is looked for without its line
 * breaks: a log read back line by line (tailFile drops blank lines) may have lost them, and then
 * the previous run's mark and output would count as this run's.
 */
export function serialSinceStart(log: string): string {
  const mark = SERIAL_START_MARK.trim();
  const at = log.lastIndexOf(mark);
  return at < 0 ? log : log.slice(at + mark.length);
}

export interface LaunchOptions {
  paused?: boolean;
  /** Extra arguments appended last (used by disposable runs for their overlay). */
  argvOverride?: (argv: string[]) => string[];
  /** The host-path policy external files are checked against again before every start. */
  policy?: PathPolicy;
}

/** Removes sockets and pidfiles left by a QEMU that is gone. */
export function cleanRuntime(paths: VmPaths): void {
  for (const f of [
    paths.qmpSocket,
    paths.serialSocket,
    paths.vncSocket,
    paths.tpmSocket,
    paths.qgaSocket,
    paths.pidFile,
    paths.tpmPidFile,
  ]) {
    rmSync(f, { force: true });
  }
}

function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

const QUIET = ['"screendump"', '"query-blockstats"', '"rd_bytes"', '"ringbuf-read"'];

function openQmp(paths: VmPaths, log: LogWriter): QmpClient {
  return new QmpClient({
    path: paths.qmpSocket,
    onLog: (e) => {
      // The cards' thumbnails ask for a screendump every few seconds, and the performance sampler
      // for block stats every second (a large reply, recognised by its counters), the readiness
      // watch for SeaBIOS's messages while a BIOS guest boots: not worth a
      // log line each, and they would push the lines that matter out of the capped log.
      if (QUIET.some((q) => e.text.includes(q))) return;
      log.line(`${e.direction} ${e.text}`);
    },
  });
}

export async function launch(
  vm: VmConfig,
  host: HostInfo,
  paths: VmPaths,
  options: LaunchOptions = {},
): Promise<QemuInstance> {
  checkSocketPaths(paths);
  // The pidfile, and failing that /proc: a QEMU started by an engine killed before QEMU wrote
  // its pidfile has none, and must not get a twin.
  const fromFile = readPidFile(paths.pidFile);
  const existing =
    fromFile && isOurQemu(fromFile, paths.pidFile) ? fromFile : qemusByPidFile().get(paths.pidFile);
  if (existing && isOurQemu(existing, paths.pidFile)) {
    throw new HangarError('CONFLICT', `"${vm.name}" is already running (QEMU pid ${existing}).`);
  }
  ensureRuntimeDir(paths);
  cleanRuntime(paths);
  checkFiles(vm, paths.vmDir);
  if (options.policy) {
    recheckExternal(vm, options.policy);
    recheckShare(vm, options.policy);
  }
  if (vm.sharedFolder) writeSmbConf(paths.runDir, vm.sharedFolder);
  await checkPorts(vm);
  if (vm.tpm) {
    if (!host.swtpm)
      throw new HangarError(
        'UNSUPPORTED',
        'This VM has a TPM, which needs swtpm: sudo apt-get install swtpm.',
      );
    await startSwtpm(host.swtpm.path, paths);
  }

  let argv = buildArgv(vm, host, paths, { paused: options.paused ?? false });
  if (options.argvOverride) argv = options.argvOverride(argv);
  rotateAtStart(paths.qemuLog);
  rotateAtStart(paths.serialLog);
  const offset = logSize(paths.qemuLog);
  appendFileSync(paths.serialLog, SERIAL_START_MARK);
  appendFileSync(
    paths.qemuLog,
    `\n=== ${new Date().toISOString()} start ${JSON.stringify([host.qemu.path, ...argv])}\n`,
  );
  const fd = openSync(paths.qemuLog, 'a');
  // detached: its own session, so closing the app or the terminal does not take the VM down.
  // umask 177: the sockets and pidfile QEMU creates are 0600, not 0755.
  const child = spawnPrivate(host.qemu.path, argv, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();

  const failed = (why: string) => {
    const log = readFileSync(paths.qemuLog, 'utf8').slice(offset);
    const words = qemuErrorLines(log);
    const hint = explainStartFailure(log);
    return new HangarError(
      'QEMU_FAILED',
      `"${vm.name}" failed to start: ${hint ?? why}${words ? `\n${words}` : ''}`,
      {
        logTail: words,
      },
    );
  };

  const abort = new AbortController();
  let onError!: (err: Error) => void;
  let onExit!: (code: number | null, signal: NodeJS.Signals | null) => void;
  const spawnError = new Promise<never>((_, reject) => {
    onError = (err) => reject(failed(err.message));
    onExit = (code, signal) => {
      abort.abort();
      reject(failed(`QEMU exited during start (${signal ?? `exit code ${code}`}).`));
    };
    child.once('error', onError);
    child.once('exit', onExit);
  });
  spawnError.catch(() => undefined);
  const qmpLog = new LogWriter(paths.qmpLog);
  const qmp = openQmp(paths, qmpLog);
  try {
    await Promise.race([qmp.connect({ retryForMs: 30_000, signal: abort.signal }), spawnError]);
  } catch (err) {
    await qmp.close();
    child.kill('SIGKILL');
    cleanRuntime(paths);
    throw err instanceof HangarError ? err : failed((err as Error).message);
  } finally {
    // From here on the instance watches the process; a later exit is not a start failure.
    child.off('error', onError);
    child.off('exit', onExit);
  }
  tightenModes(runtimeFiles(paths));
  return new QemuInstance(child.pid!, qmp, child, qmpLog);
}

function runtimeFiles(paths: VmPaths): string[] {
  return [
    paths.qmpSocket,
    paths.serialSocket,
    paths.vncSocket,
    paths.qgaSocket,
    paths.tpmSocket,
    paths.pidFile,
    paths.tpmPidFile,
  ];
}

/**
 * Reconnects to a QEMU left running by an earlier engine; null when there is none to adopt.
 * `found` is the QEMU that /proc shows with this VM's pidfile (see qemusByPidFile), for one whose
 * pidfile is not written yet because the engine that started it was killed a moment later.
 */
export async function adopt(paths: VmPaths, found?: number): Promise<QemuInstance | null> {
  // No runtime folder and no QEMU found by its command line: nothing runs, nothing to clean.
  if (!found && !existsSync(paths.runDir)) return null;
  let pid = readPidFile(paths.pidFile);
  if (!pid || !isOurQemu(pid, paths.pidFile)) pid = found && isOurQemu(found, paths.pidFile) ? found : null;
  if (!pid) {
    cleanRuntime(paths);
    return null;
  }
  const qmpLog = new LogWriter(paths.qmpLog);
  const qmp = openQmp(paths, qmpLog);
  try {
    // Retried: a QEMU that was just spawned may not have made its QMP socket yet.
    await qmp.connect({ timeoutMs: 5_000, retryForMs: 10_000 });
  } catch (err) {
    await qmp.close();
    // A QEMU that was quitting (its engine was killed during a stop) closes its socket first and
    // exits a moment later: that one has nothing left to adopt, and must not read as held.
    for (let i = 0; i < 50 && isOurQemu(pid, paths.pidFile); i++)
      await new Promise((done) => setTimeout(done, 100));
    if (!isOurQemu(pid, paths.pidFile)) {
      cleanRuntime(paths);
      return null;
    }
    throw new HangarError(
      'BUSY',
      `QEMU (pid ${pid}) runs but its control socket does not answer (${(err as Error).message}); ` +
        'another program may hold it. The VM was not started again.',
      { pid },
    );
  }
  tightenModes(runtimeFiles(paths));
  return new QemuInstance(pid, qmp, null, qmpLog);
}
