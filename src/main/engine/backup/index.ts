// Backups (issue 15): repositories of full and incremental chains made with dirty bitmaps,
// verified by hash and qemu-img check, restored to new VMs. The calls the API and CLI use.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineContext } from '../context';
import { DEFAULT_REPOSITORY, listBackups, removeStaleAll, repositoryPath } from './repository';
import type { BackupList } from '../../../shared/backup';

export { createBackup, type BackupResult, type CreateBackupOptions } from './create';
export { verifyBackup, type VerifyOptions, type VerifyProblem, type VerifyResult } from './verify';
export { restoreBackup, type RestoreOptions } from './restore';
export { drillBackup, type DrillOptions } from './drill';
export { checkInstantChain, instantRestore, resumeInstantRestore } from './instant';
export { pruneBackups, selectKept, type KeepPolicy, type PruneResult } from './prune';
export { repositoryPath } from './repository';
export { dropChainBitmaps } from './hooks';
export type { Manifest } from './manifest';
export type { BackupList, BackupListEntry } from '../../../shared/backup';

/** For Engine.open (recovery): removes what backups killed with the last engine left behind. */
export function recoverBackups(home: string): string[] {
  const repo = join(home, DEFAULT_REPOSITORY);
  // Imports (archive.ts) unpack into .import-* at the repository's top: one killed mid-way.
  const imports = existsSync(repo) ? readdirSync(repo).filter((d) => d.startsWith('.import-')) : [];
  for (const d of imports) rmSync(join(repo, d), { recursive: true, force: true });
  return [
    ...removeStaleAll(repo).map((d) => `${DEFAULT_REPOSITORY}/${d}`),
    ...imports.map((d) => `${DEFAULT_REPOSITORY}/${d}`),
  ];
}

/** The backups in a repository, of one VM (by name or id) or of all, oldest first. */
export function listBackupsOf(
  engine: EngineContext,
  options: { repository?: string | null; vm?: string | null } = {},
): BackupList {
  const repo = repositoryPath(engine, options.repository);
  // A VM that was deleted still has backups: an id is used as it is when no VM resolves.
  let vmId: string | null = null;
  if (options.vm) {
    try {
      vmId = engine.resolve(options.vm).id;
    } catch (err) {
      if (!/^[a-z0-9]{12}$/.test(options.vm)) throw err;
      vmId = options.vm;
    }
  }
  const l = listBackups(repo, vmId);
  return {
    repository: repo,
    broken: l.broken,
    backups: l.backups.map(({ dir, manifest: m }) => ({
      id: m.id,
      vmId: m.vm.id,
      vmName: m.vm.name,
      kind: m.kind,
      chainId: m.chainId,
      parent: m.parent,
      fullReason: m.fullReason,
      consistency: m.consistency,
      live: m.live,
      encrypted: m.encryption !== null,
      completedAt: m.completedAt,
      size: m.files.reduce((s, f) => s + f.size, 0),
      dir,
    })),
  };
}
