// What other operations must do about backup chains. QEMU refuses to apply an internal snapshot
// to an image that has dirty bitmaps ("Device has active dirty bitmaps"), live (snapshot-load)
// and offline (qemu-img snapshot -a) alike, so a VM with a backup chain could not be reverted.
// A revert also rewrites the disk behind the bitmap's back, so the chain cannot go on after it
// anyway: the revert drops the chain's bitmaps first, and the next backup is a full one that
// says why.
import type { VmConfig } from '../../../shared/vm';
import type { EngineContext } from '../context';
import { diskPath } from '../qemu/argv';
import { isOurBitmap } from './chain';
import { queryBitmaps, removeBitmaps } from './live';
import { offlineBitmapNames } from './disk-bitmaps';

/**
 * Removes every backup bitmap (hangar-*) from the VM's writable qcow2 disks, through QMP while
 * QEMU runs, with qemu-img while it does not. Call it with the VM's lock held, before applying a
 * snapshot. Returns what was removed, as "disk0: hangar-…".
 */
export async function dropChainBitmaps(engine: EngineContext, config: VmConfig): Promise<string[]> {
  const disks = config.disks.filter((d) => !d.readOnly && d.format === 'qcow2');
  const state = engine.runtime(config.id).state;
  const removed: string[] = [];
  if (state === 'running' || state === 'paused') {
    const qmp = engine.qmp(config.id);
    const all = await queryBitmaps(qmp);
    for (const d of disks) {
      const names = (all.get(d.id) ?? []).map((b) => b.name).filter(isOurBitmap);
      await removeBitmaps(qmp, d.id, names);
      removed.push(...names.map((n) => `${d.id}: ${n}`));
    }
    return removed;
  }
  const { vmDir } = engine.paths(config.id);
  for (const d of disks) {
    const path = diskPath(config, d, vmDir);
    for (const name of await offlineBitmapNames(engine, path)) {
      await engine.img.run(['bitmap', '--remove', '-f', 'qcow2', path, name]);
      removed.push(`${d.id}: ${name}`);
    }
  }
  return removed;
}
