import { describe, expect, it } from 'vitest';
import { type AccelEvidence, decideAccel, defaultCpuModel } from './accel';

const working: AccelEvidence = {
  forced: null,
  devicePresent: true,
  openError: '',
  tcgPostMs: 180,
  kvmPostMs: 90,
  kvmFailure: null,
  hostCpuWorks: true,
};

describe('decideAccel', () => {
  it('picks KVM on a host where it works, with the host CPU', () => {
    const d = decideAccel(working);
    expect(d.accel).toBe('kvm');
    expect(d.kvm).toMatchObject({ present: true, permitted: true, usable: true, hostCpuWorks: true });
    expect(defaultCpuModel(d.accel, d.kvm.hostCpuWorks, ['max'])).toBe('host');
  });

  it('falls back to TCG when KVM is present but slow, as on nested hosts', () => {
    const d = decideAccel({ ...working, kvmPostMs: 2900, tcgPostMs: 115, hostCpuWorks: false });
    expect(d.accel).toBe('tcg');
    expect(d.reason).toMatch(/unusably slow/);
    expect(d.reason).toMatch(/2900 ms/);
    expect(defaultCpuModel(d.accel, false, ['max', 'qemu64'])).toBe('max');
  });

  it('explains a missing device and a permission problem', () => {
    expect(decideAccel({ ...working, devicePresent: false, openError: null }).reason).toMatch(
      /does not exist/,
    );
    const denied = decideAccel({ ...working, openError: 'EACCES' });
    expect(denied.accel).toBe('tcg');
    expect(denied.reason).toMatch(/usermod -aG kvm/);
  });

  it('falls back when KVM did not run the test guest at all', () => {
    const d = decideAccel({ ...working, kvmPostMs: null, kvmFailure: 'QEMU exited (1): failed to set MSR' });
    expect(d.accel).toBe('tcg');
    expect(d.reason).toMatch(/failed to set MSR/);
  });

  it('honours HANGAR_ACCEL both ways and says so', () => {
    const tcg = decideAccel({ ...working, forced: 'tcg', kvmPostMs: null });
    expect(tcg.accel).toBe('tcg');
    expect(tcg.reason).toMatch(/HANGAR_ACCEL=tcg/);
    const kvm = decideAccel({ ...working, forced: 'kvm', kvmPostMs: 5000 });
    expect(kvm.accel).toBe('kvm');
    expect(kvm.reason).toMatch(/although/);
  });

  it('keeps a KVM without a working host CPU on a named model', () => {
    const d = decideAccel({ ...working, hostCpuWorks: false });
    expect(d.accel).toBe('kvm');
    expect(defaultCpuModel('kvm', d.kvm.hostCpuWorks, ['qemu64'])).toBe('qemu64');
  });
});
