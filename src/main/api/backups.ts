// The backup methods of the API (engine/backup). Progress goes out as `progress` events with the
// operation `backup` or `restore`, under the id of the VM backed up (a restore as a new VM too,
// whose id nobody knows until it exists; a drill's restore as well).
import type { z } from 'zod';
import type { ApiParams } from '../../shared/api';
import type { Engine } from '../engine/engine';
import {
  createBackup,
  drillBackup,
  listBackupsOf,
  pruneBackups,
  instantRestore,
  restoreBackup,
  verifyBackup,
} from '../engine/backup';
import { parseCheck } from '../engine/ready/checks';
import { restoreInPlace } from '../engine/backup/restore-in-place';
import { exportArchive, importArchive } from '../engine/backup/archive';
import { readKey } from '../engine/backup/crypto';
import type { BackupKey } from '../../shared/backup';

type P<M extends keyof typeof ApiParams> = z.output<(typeof ApiParams)[M]>;

export function backupHandlers(engine: Engine) {
  // A key file is read by the engine (crypto.ts readKey); the page cannot name one (callers.ts).
  const k = (p: { key: BackupKey | null }) => readKey(p.key);
  return {
    'backup.create': (p: P<'backup.create'>) =>
      createBackup(engine, p.vm, { repository: p.repository, full: p.full, key: k(p) }),
    'backup.list': (p: P<'backup.list'>) => listBackupsOf(engine, { repository: p.repository, vm: p.vm }),
    'backup.verify': (p: P<'backup.verify'>) =>
      verifyBackup(engine, p.backup, { repository: p.repository, mode: p.mode, key: k(p) }),
    'backup.restore': (p: P<'backup.restore'>) =>
      p.instant
        ? instantRestore(engine, p.backup, p.name, { repository: p.repository, key: k(p) })
        : restoreBackup(engine, p.backup, p.name, { repository: p.repository, key: k(p) }),
    'backup.restoreInPlace': (p: P<'backup.restoreInPlace'>) =>
      restoreInPlace(engine, p.backup, { repository: p.repository, key: k(p) }),
    'backup.export': (p: P<'backup.export'>) =>
      exportArchive(engine, p.backup, p.file, { repository: p.repository }),
    'backup.import': (p: P<'backup.import'>) => importArchive(engine, p.file, p.name, k(p)),
    'backup.drill': (p: P<'backup.drill'>) =>
      drillBackup(engine, p.backup, {
        repository: p.repository,
        checks: [...new Set(p.for.flatMap(parseCheck))],
        timeoutMs: p.timeoutSec * 1000,
        key: k(p),
      }),
    'backup.prune': (p: P<'backup.prune'>) =>
      pruneBackups(
        engine,
        p.vm,
        { last: p.keepLast, daily: p.keepDaily, weekly: p.keepWeekly },
        { repository: p.repository, dryRun: p.dryRun, key: k(p) },
      ),
  };
}
