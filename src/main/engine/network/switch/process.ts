// The engine's side of the lab switch: start it detached, find it again after an engine restart
// (pidfile + its command line + an answer on its control socket), reload it when the lab's
// segments or leases change, stop it. One switch process per lab.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { HangarError } from '../../../../shared/errors';
import { ensurePrivateDir, type LabPaths } from '../../config/paths';
import { writeFileAtomic } from '../../config/atomic';
import { cmdline, isAlive, readPidFile } from '../../supervisor/proc';
import type { ControlRequest, SwitchConfig, SwitchStatus } from './config';

const START_TIMEOUT_MS = 15_000;
const CONTROL_TIMEOUT_MS = 5_000;

/**
 * The built switch entry. Entry points pass it (next to their own bundle); from the source tree
 * (tests) it is the build output of the repository.
 */
export function defaultSwitchScript(): string {
  const here = import.meta.dirname;
  const beside = join(here, 'switch.js');
  if (existsSync(beside)) return beside;
  for (let dir = here; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'out', 'main', 'switch.js');
  }
  return beside;
}

/** Sends one request to a running switch and returns its result. */
export function control<T = unknown>(paths: LabPaths, req: ControlRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const sock = connect(paths.controlSocket);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new HangarError('TIMEOUT', `The lab switch did not answer "${req.op}" within 5 s.`));
    }, CONTROL_TIMEOUT_MS);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      let msg: { ok: boolean; result?: T; error?: string };
      try {
        msg = JSON.parse(buf.slice(0, nl)) as typeof msg;
      } catch {
        return reject(
          new HangarError('IO_ERROR', 'The lab switch answered with something that is not JSON.'),
        );
      }
      if (msg.ok) resolve(msg.result as T);
      else reject(new HangarError('CONFLICT', `Lab switch: ${msg.error ?? 'failed'}`));
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(new HangarError('IO_ERROR', `The lab switch is not answering: ${err.message}`));
    });
  });
}

/** The running switch's pid when it is ours (its command line names this lab's config). */
export function switchPid(paths: LabPaths): number | null {
  const pid = readPidFile(paths.switchPid);
  if (!pid || !isAlive(pid)) return null;
  return cmdline(pid)?.includes(paths.switchConfig) ? pid : null;
}

export async function switchStatus(paths: LabPaths): Promise<SwitchStatus | null> {
  if (switchPid(paths) === null) return null;
  try {
    return await control<SwitchStatus>(paths, { op: 'status' });
  } catch {
    return null;
  }
}

/**
 * Writes the config and makes sure a switch serves it: a running one reloads it (so VMs already
 * attached keep their links), otherwise a new one starts. Returns the switch's status.
 */
export async function ensureSwitch(
  paths: LabPaths,
  config: SwitchConfig,
  script = defaultSwitchScript(),
): Promise<SwitchStatus> {
  ensurePrivateDir(dirname(paths.runDir));
  ensurePrivateDir(paths.runDir);
  ensurePrivateDir(paths.dir);
  writeFileAtomic(paths.switchConfig, `${JSON.stringify(config, null, 2)}\n`);
  if (switchPid(paths) !== null) {
    try {
      return await control<SwitchStatus>(paths, { op: 'reload' });
    } catch (err) {
      // Alive but deaf: replace it. A switch that answers with an error keeps running (and the
      // VMs their network); the error is the user's to see.
      if (!(err instanceof HangarError && (err.code === 'IO_ERROR' || err.code === 'TIMEOUT'))) throw err;
      await stopSwitch(paths);
    }
  }
  if (!existsSync(script)) {
    throw new HangarError(
      'NOT_FOUND',
      `The lab switch program ${script} is missing; build the app (npm run build).`,
      { path: script },
    );
  }
  const fd = openSync(paths.switchLog, 'a', 0o600);
  // detached: its own session, like QEMU, so closing the app does not cut the lab's network.
  // ELECTRON_RUN_AS_NODE: inside the desktop app, execPath is Electron; this makes it plain Node.
  const child = spawn(process.execPath, [script, paths.switchConfig], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  closeSync(fd);
  child.unref();
  let exited: number | null = null;
  child.once('exit', (code) => (exited = code ?? -1));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && exited === null) {
    const status = await switchStatus(paths);
    if (status) return status;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  const tail = readFileSync(paths.switchLog, 'utf8').split('\n').slice(-5).join('\n').trim();
  throw new HangarError(
    'IO_ERROR',
    `The lab switch for "${config.lab}" did not start${exited !== null ? ` (exit ${exited})` : ''}.` +
      (tail ? `\n${tail}` : ` See ${paths.switchLog}.`),
  );
}

/** Stops the lab's switch (politely, then by force); true when one was running. */
export async function stopSwitch(paths: LabPaths): Promise<boolean> {
  const pid = switchPid(paths);
  if (pid === null) return false;
  try {
    await control(paths, { op: 'quit' });
  } catch {
    process.kill(pid, 'SIGTERM');
  }
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}
