// The writable qcow2 images of a VM that rollback features work on: its owned disks and its
// UEFI variable store. External and raw disks are refused with the reason.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';

export interface OwnedImage {
  /** File name in the VM's directory. */
  file: string;
  path: string;
}

export function ownedImages(config: VmConfig, vmDir: string, varsFile: string, what: string): OwnedImage[] {
  const list: OwnedImage[] = [];
  for (const d of config.disks) {
    if (d.readOnly) continue;
    if (!d.owned) {
      throw new HangarError(
        'UNSUPPORTED',
        `${what} needs disks the VM owns; ${d.id} is the external image ${d.path}.`,
      );
    }
    if (d.format !== 'qcow2')
      throw new HangarError('UNSUPPORTED', `${what} needs qcow2 disks; ${d.id} is raw.`);
    list.push({ file: d.file, path: join(vmDir, d.file) });
  }
  if (config.firmware !== 'bios' && existsSync(varsFile))
    list.push({ file: basename(varsFile), path: varsFile });
  return list;
}
