// qcow2 overlays: the building block of baselines, linked clones and disposable runs. Creating
// one is a header write (milliseconds, whatever the disk's size); flattening copies the data.
import { chmodSync, existsSync, renameSync, rmSync } from 'node:fs';
import { HangarError } from '../../../shared/errors';
import type { QemuImg } from '../storage/qemu-img';

export async function createOverlay(img: QemuImg, base: string, overlay: string): Promise<void> {
  await img.create(overlay, { format: 'qcow2', sizeBytes: 0, backing: { path: base, format: 'qcow2' } });
}

/**
 * Copies everything an overlay shows (its own data and its base's) into a standalone image
 * that replaces it. Written beside it first, so a failure leaves the overlay as it was.
 */
export async function flatten(img: QemuImg, overlay: string, onProgress: (p: number) => void): Promise<void> {
  const info = await img.info(overlay, 'qcow2');
  if (info.snapshots?.length) {
    throw new HangarError(
      'CONFLICT',
      `${overlay} holds ${info.snapshots.length} snapshot(s), which refer to its base; delete them first.`,
    );
  }
  const tmp = `${overlay}.flat`;
  rmSync(tmp, { force: true });
  try {
    await img.convert({ path: overlay, format: 'qcow2' }, { path: tmp, format: 'qcow2' }, onProgress);
    renameSync(tmp, overlay);
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { force: true });
  }
}

/** Bases are made read-only on disk too, so no other tool can change what overlays rely on. */
export function protect(file: string, on: boolean): void {
  chmodSync(file, on ? 0o400 : 0o600);
}
