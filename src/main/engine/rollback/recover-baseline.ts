// Finishing or undoing a `baseline set` that an engine was killed in. setBaseline links the
// image to its base name, renames a new overlay over the image, and records the baseline in
// vm.json last, so a base file that vm.json does not name is in one of two states.
import { closeSync, existsSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import type { ConfigStore } from '../config/store';
import { baseName } from '../config/filenames';
import { protect } from './overlay';

/** The backing file name in a qcow2 header, or null (not qcow2, or no backing file). */
export function qcow2Backing(path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(20);
    readSync(fd, head, 0, 20, 0);
    if (head.readUInt32BE(0) !== 0x514649fb) return null; // "QFI\xfb"
    const offset = Number(head.readBigUInt64BE(8));
    const size = head.readUInt32BE(16);
    if (!offset || !size || size > 4096) return null;
    const name = Buffer.alloc(size);
    readSync(fd, name, 0, size, offset);
    return name.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export function recoverBaseline(store: ConfigStore, config: VmConfig, vmDir: string): string[] {
  if (config.baseline) return [];
  const notes: string[] = [];
  const files = config.disks.flatMap((d) => (d.owned && d.format === 'qcow2' ? [d.file] : []));
  if (config.firmware !== 'bios') files.push('uefi-vars.qcow2');
  const bases: Record<string, string> = {};
  for (const file of files) {
    const image = join(vmDir, file);
    const base = join(vmDir, baseName(file));
    if (!existsSync(base) || !existsSync(image)) continue;
    if (statSync(base).ino === statSync(image).ino) {
      // Killed before the overlay replaced the image: the base name is a second link to it.
      rmSync(base);
      notes.push(`removed ${base}: a baseline set that was interrupted before it changed anything`);
    } else if (basename(qcow2Backing(image) ?? '') === baseName(file)) {
      // Killed after the overlay was in place: only vm.json was missing; finish the job.
      protect(base, true);
      bases[file] = baseName(file);
    }
  }
  if (Object.keys(bases).length) {
    store.save({ ...config, baseline: { createdAt: new Date().toISOString(), bases } });
    notes.push(`recorded the baseline of ${vmDir}: its setting was interrupted after the disks were ready`);
  }
  return notes;
}
