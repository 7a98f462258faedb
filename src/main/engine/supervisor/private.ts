// What QEMU and swtpm create at run time (QMP, serial, VNC, guest agent and TPM sockets, the
// pidfile) is for this user alone. QEMU gives its sockets 0777 & ~umask, so under the usual umask
// 022 they came out 0755. Spawning with umask 177 makes them 0600 from the moment they exist (no
// x bits either: these programs create sockets and files here, never directories); chmod after the
// start covers the one case where the umask cannot be set (worker threads) and VMs started by an
// older version. The 0700 runtime dir already keeps others out; this is the second lock.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, lstatSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

export const PRIVATE_UMASK = 0o177;

/**
 * spawn() with umask 177 for the child. The fork happens inside the synchronous spawn() call, so
 * the process-wide mask is changed for no longer than that call; a file this process creates from
 * another thread meanwhile only comes out stricter.
 */
export function spawnPrivate(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  if (!isMainThread) return spawn(command, args, options);
  const old = process.umask(PRIVATE_UMASK);
  try {
    return spawn(command, args, options);
  } finally {
    process.umask(old);
  }
}

/** Makes each existing socket (or file) 0600 at most; never follows a symlink. */
export function tightenModes(paths: readonly string[]): void {
  for (const p of paths) {
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) continue;
      if ((st.mode & 0o177) !== 0) chmodSync(p, st.mode & 0o600);
    } catch {
      // absent: nothing to tighten
    }
  }
}
