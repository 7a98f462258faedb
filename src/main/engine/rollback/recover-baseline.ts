// Finishing or undoing a `baseline set` that an engine was killed in. setBaseline links the
// image to its base name, renames a new overlay over the image, and records the baseline in
// vm.json last, so a base file that vm.json does not name is in one of two states.
import { existsSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import type { ConfigStore } from '../config/store';
import { baseName } from '../config/filenames';
import { protect } from './overlay';
import { qcow2Backing } from '../storage/qcow2-header';

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
