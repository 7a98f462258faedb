import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFirmware } from './firmware';

function descriptor(code: string, vars: string, features: string[]) {
  return JSON.stringify({
    description: code,
    'interface-types': ['uefi'],
    mapping: {
      device: 'flash',
      executable: { filename: code, format: 'raw' },
      'nvram-template': { filename: vars, format: 'raw' },
    },
    targets: [{ architecture: 'x86_64', machines: ['pc-q35-*'] }],
    features,
  });
}

describe('readFirmware', () => {
  it('reads descriptors in priority order, lets a later dir override, and skips missing images', () => {
    const root = mkdtempSync(join(tmpdir(), 'fw-'));
    try {
      const [sys, etc] = [join(root, 'sys'), join(root, 'etc')];
      mkdirSync(sys);
      mkdirSync(etc);
      const img = (n: string) => {
        writeFileSync(join(root, n), '');
        return join(root, n);
      };
      writeFileSync(
        join(sys, '50-secure.json'),
        descriptor(img('s.fd'), img('sv.fd'), ['secure-boot', 'requires-smm']),
      );
      writeFileSync(join(sys, '60-plain.json'), descriptor(img('p.fd'), img('pv.fd'), []));
      writeFileSync(join(sys, '70-gone.json'), descriptor(join(root, 'missing.fd'), img('gv.fd'), []));
      writeFileSync(join(sys, '80-broken.json'), '{');
      writeFileSync(join(etc, '60-plain.json'), descriptor(img('override.fd'), img('ov.fd'), []));
      const found = readFirmware([sys, etc]);
      expect(found.map((f) => f.descriptor)).toEqual(['50-secure.json', '60-plain.json']);
      expect(found[0]).toMatchObject({ secureBoot: true, requiresSmm: true, enrolledKeys: false });
      expect(found[1]?.executable.filename).toBe(join(root, 'override.fd'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("finds Debian's OVMF descriptors when ovmf is installed", () => {
    const found = readFirmware(['/usr/share/qemu/firmware']);
    expect(found.some((f) => !f.secureBoot)).toBe(true);
    expect(found.some((f) => f.secureBoot && f.enrolledKeys)).toBe(true);
  });
});
