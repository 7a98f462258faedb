// The config of a new VM made from another (full or linked clone): its own identity, none of
// the source's history. Snapshots, a baseline, the template flag and a template link all
// describe the source's files, which the copy does not share in the same way. A shared folder is
// not copied either: the user chose it for that VM (share it again for the copy), and the demo tag
// stays with the one demo.
import type { VmConfig } from '../../../shared/vm';
import { newMac, newVmId, parseConfig } from '../config/store';

export function copyConfig(src: VmConfig, name: string, changes: Partial<VmConfig> = {}): VmConfig {
  const now = new Date().toISOString();
  return parseConfig({
    ...src,
    id: newVmId(),
    name,
    nics: src.nics.map((n) => ({ ...n, mac: newMac() })),
    snapshots: [],
    currentSnapshot: null,
    template: false,
    linkedTo: null,
    baseline: null,
    instantRestore: null,
    sharedFolder: null,
    tags: src.tags.filter((t) => t !== 'demo'),
    createdAt: now,
    updatedAt: now,
    ...changes,
  });
}
