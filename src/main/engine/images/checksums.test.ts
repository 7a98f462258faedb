import { describe, expect, it } from 'vitest';
import { checksumFor, parseChecksums } from './checksums';

const A = 'a'.repeat(64);
const B = 'b'.repeat(128);

describe('checksum lists', () => {
  it('reads GNU lines (text and binary mode) and BSD tags, and skips PGP armour', () => {
    const text = [
      '-----BEGIN PGP SIGNED MESSAGE-----',
      'Hash: SHA256',
      '',
      `${A}  debian-12-genericcloud-amd64.qcow2`,
      `${A.toUpperCase().replace(/A/g, 'C')} *ubuntu.img`,
      `SHA512 (Fedora-Cloud.qcow2) = ${B}`,
      'SHA256 (short.qcow2) = abc',
      '-----BEGIN PGP SIGNATURE-----',
    ].join('\n');
    expect(parseChecksums(text)).toEqual([
      { name: 'debian-12-genericcloud-amd64.qcow2', algorithm: 'sha256', digest: A },
      { name: 'ubuntu.img', algorithm: 'sha256', digest: 'c'.repeat(64) },
      { name: 'Fedora-Cloud.qcow2', algorithm: 'sha512', digest: B },
    ]);
  });

  it('finds a file by its name, preferring SHA-512, and refuses a list that contradicts itself', () => {
    const entries = parseChecksums(`${A}  ./x.iso\nSHA512 (x.iso) = ${B}\n${'d'.repeat(64)}  y.iso`);
    expect(checksumFor(entries, 'x.iso')).toEqual({ name: 'x.iso', algorithm: 'sha512', digest: B });
    expect(checksumFor(entries, 'z.iso')).toBeNull();
    const twice = parseChecksums(`${A}  y.iso\n${'e'.repeat(64)}  y.iso`);
    expect(() => checksumFor(twice, 'y.iso')).toThrow(/two different sha256/);
  });
});
