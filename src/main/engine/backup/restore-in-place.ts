// Restore a backup point in place: the VM the backup was taken of, stopped, gets the point's disks
// and UEFI variables back. Nothing is lost to it: the current state is kept first as a snapshot
// ("before restoring <backup>"), so a revert undoes the restore. The point is written into each
// existing qcow2 (qemu-img convert -n), which keeps that file's snapshots; a disk that is missing
// or was resized since is refused (restore to a new VM then), before anything changes.
import { refuseWhileStreaming } from './instant-guard';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { VARS_FILE } from '../config/filenames';
import type { EngineContext } from '../context';
import { diskPath } from '../qemu/argv';
import { createSnapshot } from '../snapshots';
import { dropChainBitmaps } from './hooks';
import { checkedPoint, type RestoreOptions } from './restore';
import { join } from 'node:path';
import { chainOf, repositoryPath, type ListedBackup } from './repository';
import { copyImage, pointConfig } from './read-point';

export interface InPlaceResult {
  vm: VmConfig;
  /** The snapshot that holds the state from before the restore. */
  keptAs: string;
  /** Backup bitmaps dropped: the next backup of this VM is a full one. */
  droppedBitmaps: string[];
}

/** Why the point cannot go back into this VM as it is now, or null when it can. */
async function mismatch(engine: EngineContext, vm: VmConfig, leaf: ListedBackup): Promise<string | null> {
  const { vmDir } = engine.paths(vm.id);
  for (const saved of leaf.manifest.disks) {
    const disk = vm.disks.find((d) => d.id === saved.id);
    if (!disk) return `the VM has no disk ${saved.id} any more`;
    if (disk.readOnly || disk.format !== 'qcow2')
      return `disk ${saved.id} is now ${disk.readOnly ? 'read-only' : disk.format}`;
    const size = (await engine.img.info(diskPath(vm, disk, vmDir), 'qcow2'))['virtual-size'];
    if (size !== saved.virtualSize)
      return `disk ${saved.id} is ${size} bytes now and was ${saved.virtualSize} in the backup (it was resized)`;
  }
  if (leaf.manifest.varsFile && vm.firmware === 'bios')
    return 'the VM uses BIOS now and the backup has UEFI variables';
  return null;
}

export async function restoreInPlace(
  engine: EngineContext,
  backupId: string,
  options: RestoreOptions = {},
): Promise<InPlaceResult> {
  const leaf = await checkedPoint(engine, backupId, options);
  const key = options.key ?? null;
  // A wrong key stops here, before the snapshot and the copy.
  pointConfig(leaf, key);
  const chain = chainOf(repositoryPath(engine, options.repository), leaf).reverse();
  const vmId = leaf.manifest.vm.id;
  const check = (vm: VmConfig) => engine.requireStopped(vm, `restore backup ${backupId} into it`);
  // Refused before anything changes: a running VM, a disk gone or resized.
  const droppedBitmaps = await engine.withVm(vmId, 'restore', async (vm) => {
    check(vm);
    refuseWhileStreaming(vm, 'Restore into it');
    const why = await mismatch(engine, vm, leaf);
    if (why)
      throw new HangarError(
        'CONFLICT',
        `Backup ${backupId} cannot go back into "${vm.name}" in place: ${why}. Restore it as a new VM instead ` +
          `(hangar backup restore ${backupId} --name NAME).`,
      );
    // The restore rewrites the disks behind the chain's bitmaps (and QEMU refuses snapshots over
    // them): the chain ends here, and the next backup is a full one.
    return dropChainBitmaps(engine, vm);
  });
  const kept = await createSnapshot(
    engine,
    vmId,
    `before restoring ${backupId}`,
    'Kept by an in-place restore.',
  );
  const vm = await engine.withVm(vmId, 'restore', async (config) => {
    check(config);
    try {
      await writePoint(engine, config, chain, key);
    } catch (err) {
      engine.endProgress(config.id, 'restore', true);
      throw new HangarError(
        err instanceof HangarError ? err.code : 'IO_ERROR',
        `The restore of backup ${backupId} stopped partway: ${(err as Error).message}. The state from before ` +
          `is kept: hangar snapshot revert ${config.id} "${kept.name}" brings it back.`,
      );
    }
    engine.progress(config.id, 'restore', 100, 'done');
    return config;
  });
  return { vm, keptAs: kept.name, droppedBitmaps };
}

async function writePoint(
  engine: EngineContext,
  config: VmConfig,
  chain: ListedBackup[],
  key: Buffer | null,
): Promise<void> {
  const { vmDir } = engine.paths(config.id);
  const leaf = chain[0]!;
  // into: the existing image (its snapshots, the one just taken included, stay); qemu-img
  // then writes the point's zeros too, since it cannot assume the target reads as zeros.
  const into = (from: string, to: string) => copyImage(engine, chain, from, to, { key, into: true });
  const disks = leaf.manifest.disks;
  for (const [n, saved] of disks.entries()) {
    const disk = config.disks.find((d) => d.id === saved.id)!;
    engine.progress(config.id, 'restore', (n / disks.length) * 95, `restoring ${saved.id}`);
    await into(saved.file, diskPath(config, disk, vmDir));
  }
  // Every point holds the variables whole: read from this point alone.
  if (leaf.manifest.varsFile)
    await copyImage(engine, [leaf], leaf.manifest.varsFile, join(vmDir, VARS_FILE), { key, into: true });
}
