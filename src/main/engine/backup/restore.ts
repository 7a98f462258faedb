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
import { cloneSeed, SEED_DISK_ID } from '../cloudinit/seed';
import { freePort } from '../cloudinit/plan';
import type { EngineContext } from '../context';
import { chainOf, findBackup, repositoryPath, type ListedBackup } from './repository';
import { chainProblems } from './verify';
import { restoreTpmState } from './tpm-state';

export interface RestoreOptions {
  repository?: string | null;
  vmId?: string | null;
  /**
   * Instant: each disk is a new overlay on the point's file instead of a full copy, so the VM can
   * start at once; instant.ts streams the data in while it runs.
   */
  instant?: boolean;
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
  let src: VmConfig;
  try {
    src = parseConfig(leaf.manifest.config);
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
    // made anew, other owned ones (their files were the source VM's) are left out.
    if (!d.owned || d.id === SEED_DISK_ID) return [d];
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
        // -f qcow2: the point's own format; its backing files are named in its header with
        // their format (-F qcow2 when written), and their bytes were checked above.
        if (options.instant) {
          await overlayOn(engine, join(leaf.dir, d.file), join(dir, `${d.id}.qcow2`));
          continue;
        }
        await engine.img.convert(
          { path: join(leaf.dir, d.file), format: 'qcow2' },
          { path: join(dir, `${d.id}.qcow2`), format: 'qcow2' },
          (p) => engine.progress(progressId, 'restore', ((n + p / 100) / count) * 95, `restoring ${d.id}`),
        );
      }
      if (clone.firmware !== 'bios') {
        if (leaf.manifest.varsFile)
          await engine.img.run([
            'convert',
            '-q',
            '-f',
            'qcow2',
            '-O',
            'qcow2',
            join(leaf.dir, leaf.manifest.varsFile),
            join(dir, VARS_FILE),
          ]);
        else await createVarsStore(clone, engine, join(dir, VARS_FILE));
      }
      // The TPM's keys go with the disks they sealed (a disk encrypted with TPM-bound keys
      // would not unlock otherwise); a point without TPM state leaves swtpm to make a new one.
      if (clone.tpm) restoreTpmState(leaf.dir, leaf.manifest, dir);
      const seeded = clone.cloudInit ? await cloneSeed(clone, leaf.dir, dir, await freePort()) : clone;
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
