// What may not happen to a VM while an instant restore still streams its data in (instant.ts):
// its disks' clusters partly live in the backup until then. A snapshot would point at clusters
// that vanish when the stream drops the backing file; a baseline, a template or a libvirt domain
// would keep reading the backup after the mark is gone and prune no longer keeps it; a live copy
// (backup, publish) is refused by QEMU while the stream job holds the disk.
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';

export function refuseWhileStreaming(config: VmConfig, what: string): void {
  const from = config.instantRestore;
  if (!from) return;
  throw new HangarError(
    'CONFLICT',
    `"${config.name}" still reads from backup ${from.backup}: an instant restore is copying its data in while ` +
      `it runs. ${what} once that is done (hangar history ${config.id} says when; a stopped VM goes on when started).`,
  );
}
