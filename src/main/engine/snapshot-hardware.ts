// The hardware a snapshot was taken with. A RAM snapshot only loads into a QEMU whose machine
// matches the one that saved it (memory size, devices, CPUs), so a snapshot records it and a
// revert brings it back, as VirtualBox and libvirt do; a revert that cannot is refused before
// anything is touched.
import type { SnapshotHardware, VmConfig } from '../../shared/vm';
import { HangarError } from '../../shared/errors';
import { existsSync } from 'node:fs';

export function hardwareOf(config: VmConfig): SnapshotHardware {
  return {
    cpus: config.cpus,
    memoryMiB: config.memoryMiB,
    machine: config.machine,
    cpuModel: config.cpuModel,
    firmware: config.firmware,
    tpm: config.tpm,
    disks: config.disks,
    cdroms: config.cdroms,
    nics: config.nics.map(({ id, model, mac }) => ({ id, model, mac })),
    display: config.display,
    bootOrder: config.bootOrder,
    directBoot: config.directBoot,
    share9p: config.sharedFolder?.over9p ?? false,
  };
}

/** The identity of a disk's data: its file. Bus, cache and read-only may come back as they were. */
const diskKey = (d: VmConfig['disks'][number]) =>
  `${d.id}:${d.owned ? `owned:${d.file}` : `external:${d.path}`}:${d.format}`;

/**
 * The VM's config as it is to be after reverting to a snapshot with this hardware record.
 * Host-side settings (port forwards, name, description) stay as they are now. Throws CONFLICT,
 * before anything is changed, when the snapshot's machine cannot be brought back.
 */
export function configAt(current: VmConfig, hw: SnapshotHardware | undefined, name: string): VmConfig {
  if (!hw) return current; // taken before snapshots recorded their hardware
  const now = new Set(current.disks.map(diskKey));
  const then = new Set(hw.disks.map(diskKey));
  const added = current.disks.filter((d) => !then.has(diskKey(d))).map((d) => d.id);
  const gone = hw.disks.filter((d) => !now.has(diskKey(d))).map((d) => d.id);
  if (added.length || gone.length) {
    const what = [
      added.length ? `added since: ${added.join(', ')}` : '',
      gone.length ? `removed or replaced since: ${gone.join(', ')}` : '',
    ].filter(Boolean);
    throw new HangarError(
      'CONFLICT',
      `The disks changed after snapshot "${name}" was taken (${what.join('; ')}), so it cannot be ` +
        'restored with them. Put the disks back as they were, or delete the snapshot. Nothing was changed.',
    );
  }
  if (hw.firmware !== current.firmware) {
    throw new HangarError(
      'CONFLICT',
      `Snapshot "${name}" was taken with ${hw.firmware} firmware and the VM now has ${current.firmware}; ` +
        `set the firmware back to ${hw.firmware} to revert to it. Nothing was changed.`,
    );
  }
  const media = hw.cdroms.flatMap((c) => (c.media && !existsSync(c.media) ? [c.media] : []));
  if (media.length) {
    throw new HangarError(
      'CONFLICT',
      `Snapshot "${name}" had ${media.join(', ')} in its CD-ROM drive, which is gone; put it back ` +
        'to revert to this snapshot. Nothing was changed.',
    );
  }
  // The 9p device is part of the machine; the folder behind it is not (it is the host's).
  if (hw.share9p && !current.sharedFolder)
    throw new HangarError(
      'CONFLICT',
      `Snapshot "${name}" was taken with a folder shared over 9p, and the VM shares none now; share a ` +
        'folder again (hangar edit VM --share DIR --share-9p) to revert to it. Nothing was changed.',
    );
  const sharedFolder = current.sharedFolder && { ...current.sharedFolder, over9p: hw.share9p };
  // What a snapshot does not record (forwards, the lab segment) comes from the NIC as it is now.
  const nowById = new Map(current.nics.map((n) => [n.id, n]));
  return {
    ...current,
    cpus: hw.cpus,
    memoryMiB: hw.memoryMiB,
    machine: hw.machine,
    cpuModel: hw.cpuModel,
    tpm: hw.tpm,
    disks: hw.disks,
    cdroms: hw.cdroms,
    nics: hw.nics.map((n) => {
      const now = nowById.get(n.id);
      return {
        ...n,
        mode: now?.mode ?? 'user',
        portForwards: now?.portForwards ?? [],
        segment: now?.segment ?? null,
      };
    }),
    display: hw.display,
    bootOrder: hw.bootOrder,
    directBoot: hw.directBoot,
    sharedFolder,
  };
}

/** True when QEMU would be started with a different machine for `next` than for `current`. */
export function machineDiffers(current: VmConfig, next: VmConfig): boolean {
  return JSON.stringify(hardwareOf(current)) !== JSON.stringify(hardwareOf(next));
}
