// The host probe against this machine's real QEMU, /dev/kvm and firmware.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { probeHost } from '../../src/main/engine/probe';
import { tempHome } from '../support/env';

const t = tempHome();
afterAll(() => t.cleanup());
const env = { ...process.env, HANGAR_ACCEL: '' };

describe('probeHost on this machine', () => {
  it('decides the accelerator from evidence and explains the decision', async () => {
    const info = await probeHost({ env });
    console.log(`probe: ${info.accel}: ${info.accelReason}`);
    expect(info.qemu.major).toBeGreaterThanOrEqual(7);
    expect(info.accelForced).toBe(false);
    if (info.accel === 'kvm') {
      expect(info.kvm.usable).toBe(true);
    } else {
      expect(info.accelReason).toMatch(/^TCG .* because /);
      expect(info.kvm.usable).toBe(false);
      // /dev/kvm existing is not enough: when present, the reason says what went wrong with it.
      if (existsSync('/dev/kvm'))
        expect(info.kvm.detail).toMatch(/slow|did not run|not accessible|could not be opened/);
    }
    expect(info.cpuModels).toContain(info.defaultCpu === 'host' ? 'host' : info.defaultCpu);
    expect(info.machines.some((m) => m.alias === 'q35')).toBe(true);
    expect(info.firmware.some((f) => !f.secureBoot)).toBe(true);
    expect(info.firmware.some((f) => f.secureBoot && f.enrolledKeys)).toBe(true);
    expect(info.swtpm?.version).toMatch(/^\d+\.\d+/);
  });

  it('honours HANGAR_ACCEL=tcg without running the KVM test', async () => {
    const info = await probeHost({ env: { ...process.env, HANGAR_ACCEL: 'tcg' } });
    expect(info.accel).toBe('tcg');
    expect(info.accelForced).toBe(true);
    expect(info.accelReason).toMatch(/HANGAR_ACCEL=tcg/);
  });

  it('caches the result and probes again when the inputs change', async () => {
    const cacheFile = join(t.home, 'cache', 'probe.json');
    const tcg = { ...process.env, HANGAR_ACCEL: 'tcg' };
    const first = await probeHost({ env: tcg, cacheFile });
    const again = await probeHost({ env: tcg, cacheFile });
    expect(again.probedAt).toBe(first.probedAt);
    const changed = await probeHost({ env: { ...tcg, HANGAR_ACCEL: 'TCG ' }, cacheFile });
    expect(changed.probedAt).toBe(first.probedAt); // same meaning after normalising
    const fresh = await probeHost({ env: tcg, cacheFile, fresh: true });
    expect(fresh.probedAt).not.toBe(first.probedAt);
  });

  it('names the packages to install when QEMU is missing', async () => {
    await expect(probeHost({ env: { PATH: '/nonexistent' } })).rejects.toMatchObject({
      code: 'QEMU_NOT_FOUND',
      message: expect.stringMatching(/apt-get install qemu-system-x86/),
    });
    await expect(probeHost({ env: { ...process.env, HANGAR_QEMU: '/no/such/qemu' } })).rejects.toMatchObject({
      code: 'QEMU_NOT_FOUND',
    });
  });
});
