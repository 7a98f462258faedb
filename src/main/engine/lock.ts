// Exactly one engine per $HANGAR_HOME: a QMP socket serves one client, and two supervisors of
// one VM would fight. The guard is a POSIX record lock (fcntl F_SETLK) on $HANGAR_HOME/engine.lock.
// The kernel drops it when its process ends, however it ends (SIGKILL included), so there is no
// stale lock to judge by a PID that may have been reused, and no takeover two engines could race.
//
// Why os-lock: it is a Node-API addon, so the one build loads in Node (CLI, tests) and in
// Electron's main process alike; an addon built on nan (fs-ext's flock) must be rebuilt for
// Electron's ABI, against headers that cannot be downloaded on every machine.
//
// POSIX locks belong to the process, which brings two rules this module keeps:
// - a process never conflicts with itself, so locks held here are tracked in `held` and a second
//   acquire in the same process is refused from that table;
// - closing any descriptor of the file drops the lock, so no code opens engine.lock while this
//   process holds it (readLock answers from `held` instead).
// The file is never deleted: an engine that opened it just before an unlink could lock the
// orphaned inode while a third one locks a new file, and two engines would run.
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { lock } from 'os-lock';
import { HangarError } from '../../shared/errors';

export interface LockHolder {
  pid: number;
  /** null when the holder has not written its record yet. */
  startedAt: string | null;
  /** Where the holder serves the engine API, so other clients can use it. */
  endpoint: string | null;
}

const LOCK_FILE = 'engine.lock';

/** Locks this process holds (or is taking), by the file's device and inode. */
const held = new Map<string, EngineLock | 'pending'>();

const inodeKey = (s: BigIntStats): string => `${s.dev}:${s.ino}`;

function stat(file: string): BigIntStats | undefined {
  return statSync(file, { bigint: true, throwIfNoEntry: false });
}

/**
 * The process the kernel says holds a write lock on this file, from /proc/locks (lines like
 * "1: POSIX  ADVISORY  WRITE 6213 fe:00:603 0 EOF"); null when nobody holds one.
 */
function lockOwner(s: BigIntStats): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return null;
  }
  const major = ((s.dev >> 8n) & 0xfffn) | ((s.dev >> 32n) & ~0xfffn);
  const minor = (s.dev & 0xffn) | ((s.dev >> 12n) & ~0xffn);
  let sameInode: number | null = null;
  for (const line of text.split('\n')) {
    // Waiters are listed as "N: -> POSIX ..." and do not match: they hold nothing.
    const m = /^\d+:\s+POSIX\s+\S+\s+WRITE\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (!m || BigInt(m[4]!) !== s.ino || m[1] === '0') continue;
    if (BigInt(`0x${m[2]}`) === major && BigInt(`0x${m[3]}`) === minor) return Number(m[1]);
    // btrfs and overlayfs give stat() another device number than the one /proc/locks shows.
    sameInode ??= Number(m[1]);
  }
  return sameInode;
}

function readRecord(file: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' ? h : null;
  } catch {
    return null;
  }
}

/** The engine holding the lock of this home, or null when none does. */
export function readLock(home: string): LockHolder | null {
  const file = join(home, LOCK_FILE);
  const s = stat(file);
  if (!s) return null;
  const mine = held.get(inodeKey(s));
  // Reading the file here would close a descriptor of it and drop this process's own lock.
  if (mine) return mine === 'pending' ? null : mine.holder;
  const pid = lockOwner(s);
  if (pid === null) return null;
  const record = readRecord(file);
  // The record is written just after the lock is taken; until then only the pid is known.
  return record?.pid === pid ? record : { pid, startedAt: null, endpoint: null };
}

function busy(home: string, holder: LockHolder): HangarError {
  return new HangarError('BUSY', `Another Hangar engine (pid ${holder.pid}) is running for ${home}.`, {
    pid: holder.pid,
    endpoint: holder.endpoint,
  });
}

export class EngineLock {
  private released = false;

  private constructor(
    private readonly fd: number,
    private readonly key: string,
    readonly holder: LockHolder,
  ) {}

  /** Takes the lock or throws BUSY naming the engine that holds it. */
  static async acquire(home: string, endpoint: string | null = null): Promise<EngineLock> {
    const file = join(home, LOCK_FILE);
    // Checked before opening: opening and closing the file would drop a lock held here.
    const before = stat(file);
    const mine = before && held.get(inodeKey(before));
    if (mine) {
      throw busy(home, mine === 'pending' ? { pid: process.pid, startedAt: null, endpoint } : mine.holder);
    }
    for (let attempt = 0; ; attempt++) {
      const fd = openSync(file, constants.O_RDWR | constants.O_CREAT, 0o600);
      const s = fstatSync(fd, { bigint: true });
      const key = inodeKey(s);
      // Synchronously since the check above, so two acquires in this process cannot both pass.
      held.set(key, 'pending');
      try {
        await lock(fd, { exclusive: true, immediate: true });
      } catch (err) {
        held.delete(key);
        closeSync(fd); // this process holds no lock on the file, so closing drops nothing
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EAGAIN') throw err;
        const holder = readLock(home);
        if (holder) throw busy(home, holder);
        // The holder let go between our attempt and the look-up: try again, a few times.
        if (attempt < 3) continue;
        throw new HangarError('BUSY', `Could not take the engine lock ${file}; try again.`);
      }
      const holder: LockHolder = { pid: process.pid, startedAt: new Date().toISOString(), endpoint };
      ftruncateSync(fd, 0);
      writeSync(fd, JSON.stringify(holder), 0);
      const taken = new EngineLock(fd, key, holder);
      held.set(key, taken);
      return taken;
    }
  }

  /** Lets go of the lock; the process ending does the same. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.key);
    // The record would name a process that no longer holds anything.
    ftruncateSync(this.fd, 0);
    closeSync(this.fd);
  }
}
