// Restore a backup point to a new VM: its chain's hashes checked first (the repository may be a
// drive someone else wrote, and qemu-img is about to follow the images' backing names), each
// disk flattened from the point with qemu-img convert, vm.json from the manifest with a new
// identity (id, name, MACs) as a clone gets, assembled in a staging folder and published whole.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Disk, VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { parseConfig } from '../config/store';
import { VARS_FILE } from '../config/filenames';
import { copyConfig } from '../vms/copy-config';
import { createVarsStore } from '../vms/create';
import { cloneSeed, SEED_DIR, SEED_DISK_ID } from '../cloudinit/seed';
import { freePort } from '../cloudinit/plan';
import type { EngineContext } from '../context';
import { chainOf, findBackup, repositoryPath, type ListedBackup } from './repository';
import { chainProblems } from './verify';
import { TPM_DIR } from './tpm-state';
import { copyImage, copySmallFiles, pointConfig } from './read-point';

export interface RestoreOptions {
  repository?: string | null;
  vmId?: string | null;
  /**
   * Instant: each disk is a new overlay on the point's file instead of a full copy, so the VM can
   * start at once; instant.ts streams the data in while it runs.
   */
  instant?: boolean;
  /** The secret of an encrypted point. */
  key?: Buffer | null;
}

/**
 * The backup point, once every file of its chain matches its hashes and every header names only
 * its own chain: before qemu-img follows those headers' backing names (see headerProblems).
 */
export async function checkedPoint(
  engine: EngineContext,
  backupId: string,
  options: RestoreOptions,
): Promise<ListedBackup> {
  const repo = repositoryPath(engine, options.repository);
  const leaf = findBackup(repo, backupId, options.vmId ?? null);
  const chain = chainOf(repo, leaf);
  const problems = await chainProblems(engine, chain);
  if (problems.length)
    throw new HangarError(
      'CONFIG_CORRUPT',
      `Backup ${backupId} cannot be restored: ${problems.map((p) => `${p.file}: ${p.problem}`).join('; ')}`,
      { problems },
    );
  return leaf;
}

export async function restoreBackup(
  engine: EngineContext,
  backupId: string,
  name: string,
  options: RestoreOptions = {},
): Promise<VmConfig> {
  const leaf = await checkedPoint(engine, backupId, options);
  const key = options.key ?? null;
  if (options.instant && leaf.manifest.encryption)
    throw new HangarError(
      'UNSUPPORTED',
      `Backup ${backupId} is encrypted, and a VM cannot run on encrypted backup files: restore it without --instant.`,
    );
  const chain = chainOf(repositoryPath(engine, options.repository), leaf).reverse();
  // An encrypted point's configuration is opened first: a wrong key stops here, before any copy.
  const config = pointConfig(leaf, key);
  let src: VmConfig;
  try {
    src = parseConfig(config);
  } catch (err) {
    throw new HangarError(
      'CONFIG_CORRUPT',
      `The VM configuration in backup ${backupId} is not usable: ${(err as Error).message}`,
    );
  }
  const saved = new Map(leaf.manifest.disks.map((d) => [d.id, d]));
  const disks: Disk[] = src.disks.flatMap((d): Disk[] => {
    if (saved.has(d.id))
      return [
        {
          id: d.id,
          owned: true,
          file: `${d.id}.qcow2`,
          format: 'qcow2',
          bus: d.bus,
          readOnly: false,
          cache: d.cache,
          discard: d.discard,
        },
      ];
    // Read-only disks are not in a backup: external ones are referred to again, the seed is
    // made anew, other owned ones (their files were the source VM's) are left out. A writable
    // external disk is always in a backup (sourceDisks), so one named only in the config comes
    // from a manifest someone wrote: it would hand the guest a host file to write. Left out.
    if (d.id === SEED_DISK_ID || (!d.owned && d.readOnly)) return [d];
    return [];
  });
  const repository = repositoryPath(engine, options.repository);
  const clone = copyConfig(src, name, {
    disks,
    instantRestore: options.instant ? { backup: leaf.manifest.id, repository } : null,
  });
  // Progress goes under the id of the VM the backup is of, as a clone's goes under its source's:
  // the new VM's id is made just above, so no window can be watching for it yet.
  const progressId = leaf.manifest.vm.id;
  return engine.withLocks([{ key: clone.id, mode: 'write' }], 'restore', async () => {
    const dir = engine.store.stage(clone.id);
    try {
      const count = leaf.manifest.disks.length;
      for (const [n, d] of leaf.manifest.disks.entries()) {
        if (options.instant) {
          await overlayOn(engine, join(leaf.dir, d.file), join(dir, `${d.id}.qcow2`));
          continue;
        }
        await copyImage(engine, chain, d.file, join(dir, `${d.id}.qcow2`), {
          key,
          onProgress: (p) =>
            engine.progress(progressId, 'restore', ((n + p / 100) / count) * 95, `restoring ${d.id}`),
        });
      }
      if (clone.firmware !== 'bios') {
        if (leaf.manifest.varsFile)
          // Every point holds the variables whole: read from this point alone.
          await copyImage(engine, [leaf], leaf.manifest.varsFile, join(dir, VARS_FILE), { key });
        else await createVarsStore(clone, engine, join(dir, VARS_FILE));
      }
      // The TPM's keys go with the disks they sealed (a disk encrypted with TPM-bound keys
      // would not unlock otherwise); a point without TPM state leaves swtpm to make a new one.
      if (clone.tpm) copySmallFiles(leaf, TPM_DIR, dir, key);
      const seeded = clone.cloudInit ? await seedFrom(leaf, clone, dir, key) : clone;
      const made = engine.store.publish(seeded, dir);
      engine.progress(progressId, 'restore', 100, 'done');
      engine.emit('config', { id: made.id, config: made });
      return made;
    } catch (err) {
      engine.endProgress(progressId, 'restore', true);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  });
}

/**
 * A new qcow2 whose backing file is the point's, by its absolute name (the VM's folder is not in
 * the repository), format pinned; QEMU opens it, and the points under it, read-only.
 */
async function overlayOn(engine: EngineContext, point: string, file: string): Promise<void> {
  await engine.img.run(['create', '-q', '-f', 'qcow2', '-b', point, '-F', 'qcow2', file]);
}

/** The new VM's seed, from the point's seed inputs (opened first when the point is encrypted). */
async function seedFrom(
  leaf: ListedBackup,
  clone: VmConfig,
  dir: string,
  key: Buffer | null,
): Promise<VmConfig> {
  if (!leaf.manifest.encryption) return cloneSeed(clone, leaf.dir, dir, await freePort());
  const opened = join(dir, '.point');
  try {
    copySmallFiles(leaf, SEED_DIR, opened, key);
    return await cloneSeed(clone, opened, dir, await freePort());
  } finally {
    rmSync(opened, { recursive: true, force: true });
  }
}
