// Exactly one engine per $HANGAR_HOME: a QMP socket serves one client, and two supervisors of
// one VM would fight. The lock file names its holder; a holder that is gone is replaced.
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HangarError } from '../../shared/errors';
import { isAlive } from './supervisor/proc';

export interface LockHolder {
  pid: number;
  startedAt: string;
  /** Where the holder serves the engine API, so other clients can use it. */
  endpoint: string | null;
}

export function readLock(home: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(join(home, 'engine.lock'), 'utf8')) as LockHolder;
    return typeof h.pid === 'number' ? h : null;
  } catch {
    return null;
  }
}

export class EngineLock {
  private constructor(
    private readonly file: string,
    readonly holder: LockHolder,
  ) {}

  /** Takes the lock or throws BUSY naming the engine that holds it. */
  static acquire(home: string, endpoint: string | null = null): EngineLock {
    const file = join(home, 'engine.lock');
    const holder: LockHolder = { pid: process.pid, startedAt: new Date().toISOString(), endpoint };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(holder), { mode: 0o600 });
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          // link() fails if the lock exists: the check and the claim are one atomic step.
          linkSync(tmp, file);
          return new EngineLock(file, holder);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          const current = readLock(home);
          if (current && isAlive(current.pid)) {
            throw new HangarError(
              'BUSY',
              `Another Hangar engine (pid ${current.pid}) is running for ${home}.`,
              {
                pid: current.pid,
                endpoint: current.endpoint,
              },
            );
          }
          // The holder died without cleaning up; its lock protects nothing any more.
          unlinkSync(file);
        }
      }
      throw new HangarError('BUSY', `Could not take the engine lock ${file}; try again.`);
    } finally {
      unlinkSync(tmp);
    }
  }

  release(): void {
    const current = readLock(join(this.file, '..'));
    if (current?.pid === this.holder.pid && current.startedAt === this.holder.startedAt)
      unlinkSync(this.file);
  }
}
