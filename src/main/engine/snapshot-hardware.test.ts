import { describe, expect, it } from 'vitest';
import { SnapshotHardware, type VmConfig } from '../../shared/vm';
import { sampleVm } from './libvirt/fixtures';
import { configAt, hardwareOf, machineDiffers } from './snapshot-hardware';
import { ninePMounted } from './snapshots';

// The CD-ROM's ISO must exist for a revert: none here.
const base = sampleVm({ cdroms: [] });
const shared = (over9p: boolean): VmConfig => ({
  ...base,
  sharedFolder: { path: '/home/u/p', readOnly: false, over9p },
});

describe('the 9p device in a snapshot’s machine', () => {
  it('is recorded, and a revert puts it back as it was', () => {
    const taken = hardwareOf(shared(true));
    expect(taken.share9p).toBe(true);
    expect(machineDiffers(shared(false), shared(true))).toBe(true);
    expect(configAt(shared(false), taken, 's').sharedFolder).toEqual({
      path: '/home/u/p',
      readOnly: false,
      over9p: true,
    });
    expect(configAt(shared(true), hardwareOf(shared(false)), 's').sharedFolder?.over9p).toBe(false);
  });

  it('is absent from records made before it existed', () => {
    const old = SnapshotHardware.parse({ ...hardwareOf(base), share9p: undefined });
    expect(old.share9p).toBe(false);
    expect(configAt(shared(true), old, 's').sharedFolder?.over9p).toBe(false);
  });

  it('cannot come back without a shared folder, and says how', () => {
    expect(() => configAt(base, hardwareOf(shared(true)), 'before')).toThrow(/share a folder again/);
  });

  it('turns QEMU’s refusal to save a mounted 9p share into what to do', () => {
    const e = ninePMounted(
      new Error(
        "Migration is disabled when VirtFS export path '/x' is mounted in the guest using mount_tag 'hangar'",
      ),
      'dev',
    );
    expect(e?.message).toMatch(/Unmount it in the guest first .* --disk-only/);
    expect(ninePMounted(new Error('No space left on device'), 'dev')).toBeNull();
  });
});
