import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qcow2Backing, qcow2HasDataFile } from './qcow2-header';

const dir = mkdtempSync(join(tmpdir(), 'hangar-qcow2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const img = (...args: string[]) => execFileSync('qemu-img', args, { stdio: 'pipe' });

describe('qcow2Backing', () => {
  it('reads the backing name qemu-img wrote, as written (relative stays relative)', () => {
    img('create', '-f', 'qcow2', join(dir, 'base.qcow2'), '16M');
    img('create', '-f', 'qcow2', '-F', 'qcow2', '-b', 'base.qcow2', join(dir, 'rel.qcow2'));
    img('create', '-f', 'qcow2', '-F', 'qcow2', '-b', join(dir, 'base.qcow2'), join(dir, 'abs.qcow2'));
    expect(qcow2Backing(join(dir, 'base.qcow2'))).toBeNull();
    expect(qcow2Backing(join(dir, 'rel.qcow2'))).toBe('base.qcow2');
    expect(qcow2Backing(join(dir, 'abs.qcow2'))).toBe(join(dir, 'base.qcow2'));
  });

  it('says null for what is not qcow2, and refuses an oversized name field', () => {
    img('create', '-f', 'raw', join(dir, 'disk.raw'), '1M');
    expect(qcow2Backing(join(dir, 'disk.raw'))).toBeNull();
    const header = Buffer.alloc(64);
    header.writeUInt32BE(0x514649fb, 0);
    header.writeBigUInt64BE(32n, 8);
    header.writeUInt32BE(1 << 20, 16); // a 1 MiB "name": not read
    writeFileSync(join(dir, 'hostile.qcow2'), header);
    expect(qcow2Backing(join(dir, 'hostile.qcow2'))).toBeNull();
  });
});

describe('qcow2HasDataFile', () => {
  it('sees the external data file feature, and nothing in images without it', () => {
    writeFileSync(join(dir, 'secret'), 'PRIVATE KEY\n');
    img(
      'create',
      '-f',
      'qcow2',
      '-o',
      `data_file=${join(dir, 'secret')},data_file_raw=on`,
      join(dir, 'df.qcow2'),
      '1M',
    );
    expect(qcow2HasDataFile(join(dir, 'df.qcow2'))).toBe(true);
    expect(qcow2HasDataFile(join(dir, 'base.qcow2'))).toBe(false);
    expect(qcow2HasDataFile(join(dir, 'disk.raw'))).toBe(false);
  });
});
