import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isoIds, sniffFormat } from './sniff';

const dir = mkdtempSync(join(tmpdir(), 'hangar-sniff-'));
const file = (name: string, body: Buffer | string) => {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
};

describe('sniffFormat', () => {
  it('reads files shorter than any header as raw, without reading past their end', () => {
    // The API fuzzer found these: an empty file and a few bytes threw a RangeError.
    expect(sniffFormat(file('empty', ''))).toBe('raw');
    expect(sniffFormat(file('three', 'QFI'))).toBe('raw');
    expect(isoIds(file('short', 'CD001'))).toBeNull();
  });

  it('knows each format by its own bytes', () => {
    expect(sniffFormat(file('q', Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3])))).toBe('qcow2');
    expect(sniffFormat(file('v', '# Disk DescriptorFile\nversion=1\n'))).toBe('vmdk');
    expect(sniffFormat(file('x', 'vhdxfile'))).toBe('vhdx');
    const vhd = Buffer.alloc(1024);
    vhd.write('conectix', 512, 'latin1');
    expect(sniffFormat(file('fixed.vhd', vhd))).toBe('vpc');
    const tar = Buffer.alloc(1024);
    tar.write('ustar', 257, 'latin1');
    expect(sniffFormat(file('a.ova', tar))).toBe('ova');
  });
});
