import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackupKey } from '../../../shared/backup';
import { fileKey, openSealed, readKey, seal } from './crypto';

const dir = mkdtempSync(join(tmpdir(), 'hangar-crypto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('backup keys', () => {
  it('gives QEMU text: a key file of random bytes becomes its base64, a passphrase stays as typed', () => {
    const bytes = randomBytes(64);
    const file = join(dir, 'key.bin');
    writeFileSync(file, bytes);
    expect(readKey({ keyFile: file })!.toString()).toBe(bytes.toString('base64'));
    expect(readKey({ passphrase: 'grüße' })!.toString('utf8')).toBe('grüße');
    expect(BackupKey.safeParse({ passphrase: 'a\0b' }).success).toBe(false);
  });

  it('refuses a key file that is empty or not a file', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    expect(() => readKey({ keyFile: empty })).toThrow(/1 byte to 64 KiB/);
    expect(() => readKey({ keyFile: dir })).toThrow(/is not a file/);
  });

  it('seals a small file bound to its name and key', () => {
    const k = fileKey(Buffer.from('pw'), '00112233445566778899aabbccddeeff');
    const sealed = join(dir, 'vm.json');
    writeFileSync(sealed, seal(Buffer.from('{"a":1}'), 'vm.json', k));
    expect(openSealed(sealed, 'vm.json', k).toString()).toBe('{"a":1}');
    expect(() => openSealed(sealed, 'tpm/x', k)).toThrow(/key does not open/);
    const other = fileKey(Buffer.from('pw2'), '00112233445566778899aabbccddeeff');
    expect(() => openSealed(sealed, 'vm.json', other)).toThrow(/key does not open/);
  });
});
