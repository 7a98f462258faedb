import { describe, expect, it } from 'vitest';
import type { BackupListEntry } from '../../../../shared/backup';
import { keyOf, newPassphraseError, pruneNeedsKey } from './passphrase';

describe('newPassphraseError', () => {
  it('blocks an empty passphrase, a missing or different confirmation, and one too long', () => {
    expect(newPassphraseError('', '')).toMatch(/Type a passphrase/);
    expect(newPassphraseError('secret', '')).toMatch(/second time/);
    expect(newPassphraseError('secret', 'secreT')).toMatch(/differ/);
    const long = 'x'.repeat(1025);
    expect(newPassphraseError(long, long)).toMatch(/at most 1024/);
  });

  it('takes the same passphrase twice', () => {
    expect(newPassphraseError('correct horse', 'correct horse')).toBeNull();
  });
});

describe('keyOf', () => {
  it('sends no key for an empty field, a passphrase otherwise', () => {
    expect(keyOf('')).toBeNull();
    expect(keyOf(' s ')).toEqual({ passphrase: ' s ' });
  });
});

describe('pruneNeedsKey', () => {
  const entry = (id: string, encrypted: boolean) => ({ id, encrypted }) as BackupListEntry;
  const list = [entry('a', false), entry('b', true), entry('c', false)];

  it('asks for the key when a removed point merges into an encrypted one', () => {
    expect(pruneNeedsKey({ merged: [{ point: 'a', into: 'b' }] }, list)).toBe(true);
    expect(pruneNeedsKey({ merged: [{ point: 'b', into: 'c' }] }, list)).toBe(false);
    expect(pruneNeedsKey({ merged: [] }, list)).toBe(false);
  });

  it('counts a point the list does not know as maybe encrypted', () => {
    expect(pruneNeedsKey({ merged: [{ point: 'c', into: 'd' }] }, list)).toBe(true);
  });
});
