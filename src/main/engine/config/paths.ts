// Where things live. Data (vm.json, disks, logs) under $HANGAR_HOME; sockets and pidfiles in a
// short per-user runtime dir, because a UNIX socket path may hold at most 107 bytes.
import { VARS_FILE } from './filenames';
import { createHash } from 'node:crypto';
import { mkdirSync, lstatSync, chmodSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { HangarError } from '../../../shared/errors';

export const MAX_SOCKET_PATH = 107;
/** The UEFI variable store's file name in a VM's directory. */

export function hangarHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HANGAR_HOME) return env.HANGAR_HOME;
  const data = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(data, 'hangar');
}

/**
 * One runtime dir per $HANGAR_HOME, so two homes (e.g. tests) never share sockets. Without
 * $XDG_RUNTIME_DIR it falls back to /tmp, where our directory must be ours and private.
 */
// Remembered: paths are asked for per VM on every listing, and userInfo() reads the user database.
const roots = new Map<string, string>();
const uid = process.getuid?.() ?? userInfo().uid;

export function runtimeRoot(home: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.HANGAR_RUNTIME_DIR || env.XDG_RUNTIME_DIR || '/tmp';
  const key = `${base}\0${home}`;
  let root = roots.get(key);
  if (root === undefined) {
    const tag = createHash('sha256').update(home).digest('hex').slice(0, 8);
    root = join(base, `hangar-${uid}-${tag}`);
    if (roots.size > 100) roots.clear();
    roots.set(key, root);
  }
  return root;
}

export interface VmPaths {
  vmDir: string;
  configFile: string;
  qemuLog: string;
  qmpLog: string;
  serialLog: string;
  varsFile: string;
  runDir: string;
  qmpSocket: string;
  serialSocket: string;
  vncSocket: string;
  tpmSocket: string;
  qgaSocket: string;
  pidFile: string;
  tpmPidFile: string;
}

export function vmPaths(home: string, id: string, env: NodeJS.ProcessEnv = process.env): VmPaths {
  // Two joins normalise the folders; the names inside them are plain, so they are appended as
  // they are (join is most of the cost of opening an engine over a thousand VMs).
  const vmDir = join(home, 'vms', id);
  const runDir = join(runtimeRoot(home, env), id);
  return {
    vmDir,
    configFile: `${vmDir}/vm.json`,
    qemuLog: `${vmDir}/qemu.log`,
    qmpLog: `${vmDir}/qmp.log`,
    serialLog: `${vmDir}/serial.log`,
    varsFile: `${vmDir}/${VARS_FILE}`,
    runDir,
    qmpSocket: `${runDir}/qmp.sock`,
    serialSocket: `${runDir}/serial.sock`,
    vncSocket: `${runDir}/vnc.sock`,
    tpmSocket: `${runDir}/tpm.sock`,
    qgaSocket: `${runDir}/qga.sock`,
    pidFile: `${runDir}/qemu.pid`,
    tpmPidFile: `${runDir}/swtpm.pid`,
  };
}

/** Fails before launch, with the fix, rather than letting QEMU fail on a truncated socket path. */
export function checkSocketPaths(paths: VmPaths): void {
  for (const sock of [
    paths.qmpSocket,
    paths.serialSocket,
    paths.vncSocket,
    paths.tpmSocket,
    paths.qgaSocket,
  ]) {
    if (Buffer.byteLength(sock) > MAX_SOCKET_PATH) {
      throw new HangarError(
        'PATH_TOO_LONG',
        `The socket path ${sock} is longer than ${MAX_SOCKET_PATH} bytes, the limit for UNIX sockets. ` +
          'Set HANGAR_RUNTIME_DIR (or XDG_RUNTIME_DIR) to a shorter directory.',
        { path: sock },
      );
    }
  }
}

/** Creates a private directory and refuses one that another user owns or that is a symlink. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? st.uid;
  if (!st.isDirectory() || st.uid !== uid) {
    throw new HangarError(
      'IO_ERROR',
      `${dir} is not a directory owned by you; remove it or set HANGAR_RUNTIME_DIR.`,
    );
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

export function ensureRuntimeDir(paths: VmPaths): void {
  // The base (e.g. /tmp) is shared and left alone; our own directory below it must be private.
  ensurePrivateDir(join(paths.runDir, '..'));
  ensurePrivateDir(paths.runDir);
}

export interface LabPaths {
  /** Data: the lab's state (with the lab file as applied), the switch's config and log. */
  dir: string;
  stateFile: string;
  switchConfig: string;
  switchLog: string;
  /** Runtime (private, short): segment sockets, the switch's pidfile and control socket. */
  runDir: string;
  switchPid: string;
  controlSocket: string;
}

export function labPaths(home: string, lab: string, env: NodeJS.ProcessEnv = process.env): LabPaths {
  const dir = join(home, 'labs', lab);
  const runDir = join(runtimeRoot(home, env), 'labs', lab);
  return {
    dir,
    stateFile: `${dir}/lab-state.json`,
    switchConfig: `${dir}/switch.json`,
    switchLog: `${dir}/switch.log`,
    runDir,
    switchPid: `${runDir}/switch.pid`,
    controlSocket: `${runDir}/control.sock`,
  };
}

/**
 * A lab NIC's socket: QEMU listens on it and the lab's switch connects, so a switch that restarts
 * simply connects again (QEMU 7.2's stream client cannot reconnect; its server accepts anew).
 * Device ids are short lowercase words (the schema), so the name is always plain.
 */
export function nicSocket(runDir: string, nicId: string): string {
  // The prefix keeps a NIC named like one of QEMU's own sockets (qmp, serial) off its path.
  return `${runDir}/nic-${nicId}.sock`;
}
