// Checks a vendor's PGP signature on a checksum list with gpgv (GnuPG's verify-only tool), against
// exactly the key the catalog names, in a keyring made for this one check: the user's own keyring
// and trust settings play no part. For a clearsigned list only the signed text is used, as gpgv
// writes it out, so lines added outside the signature cannot slip in.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HangarError } from '../../../shared/errors';

const run = promisify(execFile);

/** `key`: an OpenPGP public key, armored or binary. Returns the signed text. */
export async function verifySignedList(
  list: Buffer,
  signature: Buffer | null,
  key: Buffer,
  listUrl: string,
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-gpgv-'));
  try {
    const keyring = join(dir, 'keyring.gpg');
    if (key.toString('latin1', 0, 40).includes('-----BEGIN PGP')) {
      // gpgv reads binary keyrings only; gpg --dearmor converts without touching any keyring.
      writeFileSync(join(dir, 'key.asc'), key);
      await run('gpg', ['--batch', '--homedir', dir, '--dearmor', '--output', keyring, join(dir, 'key.asc')]);
    } else {
      writeFileSync(keyring, key);
    }
    const data = join(dir, 'list');
    writeFileSync(data, list);
    const args = ['--homedir', dir, '--keyring', keyring];
    try {
      if (signature) {
        writeFileSync(join(dir, 'list.sig'), signature);
        await run('gpgv', [...args, join(dir, 'list.sig'), data]);
        return list.toString('utf8');
      }
      const out = join(dir, 'signed');
      await run('gpgv', [...args, '--output', out, data]);
      return readFileSync(out, 'utf8');
    } catch (err) {
      const detail = String((err as { stderr?: string }).stderr ?? (err as Error).message)
        .split('\n')
        .filter((l) => /BAD|no signature|Can't check|not a detached|no valid OpenPGP/i.test(l))
        .join('; ');
      throw new HangarError(
        'INVALID_INPUT',
        `The signature on ${listUrl} does not verify with the catalog's key${detail ? ` (${detail.trim()})` : ''}; nothing was downloaded.`,
      );
    }
  } catch (err) {
    if (err instanceof HangarError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new HangarError(
        'UNSUPPORTED',
        'Checking signed checksum lists needs gpgv and gpg: sudo apt-get install gpgv gnupg.',
      );
    throw new HangarError('INVALID_INPUT', `The catalog's key could not be read: ${(err as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
