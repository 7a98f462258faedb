// Encrypted backups. Disk images (and the UEFI variables) are LUKS-encrypted qcow2 files, which
// QEMU writes and reads itself; the small files beside them (vm.json, the TPM's state, the
// cloud-init seed's inputs) are sealed with AES-256-GCM under a key derived from the same secret
// with scrypt and a salt kept in the manifest. Node's crypto does both; nothing here is a cipher
// of our own. The secret reaches QEMU over QMP (object-add secret) and qemu-img as a file in the
// private runtime folder that is removed when the command ends: it is never written in the
// repository, nor given on a command line (other users can read those).
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackupKey } from '../../../shared/backup';
import { HangarError } from '../../../shared/errors';
import { ensurePrivateDir, runtimeRoot } from '../config/paths';
import type { EngineContext } from '../context';
import { optValue } from '../qemu/escape';
import type { QmpClient } from '../qmp';

/** The id of the secret object, in qemu-img's arguments and in QEMU. */
export const SECRET_ID = 'hangar-backup-key';
const MAGIC = Buffer.from('HGSEAL1\0');
const MAX_KEY_FILE = 64 * 1024;
const KEYS_DIR = 'keys';

/**
 * The secret's bytes: a passphrase as UTF-8; a key file as the base64 of its bytes, since QEMU
 * takes a LUKS secret only as UTF-8 text and key files are usually random bytes.
 */
export function readKey(key: BackupKey | null | undefined): Buffer | null {
  if (!key) return null;
  if ('passphrase' in key) return Buffer.from(key.passphrase, 'utf8');
  const st = statSync(key.keyFile, { throwIfNoEntry: false });
  if (!st?.isFile()) throw new HangarError('INVALID_INPUT', `The key file ${key.keyFile} is not a file.`);
  if (st.size < 1 || st.size > MAX_KEY_FILE)
    throw new HangarError('INVALID_INPUT', `The key file ${key.keyFile} must hold 1 byte to 64 KiB.`);
  return Buffer.from(readFileSync(key.keyFile).toString('base64'));
}

/** Runs `fn` with qemu-img's `--object secret` arguments; the key's file is gone afterwards. */
export async function withKeyArgs<T>(
  engine: EngineContext,
  key: Buffer,
  fn: (args: string[]) => Promise<T>,
): Promise<T> {
  const root = runtimeRoot(engine.home, engine.env);
  ensurePrivateDir(root);
  const dir = join(root, KEYS_DIR);
  ensurePrivateDir(dir);
  const file = join(dir, randomBytes(8).toString('hex'));
  writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  try {
    return await fn(['--object', `secret,id=${SECRET_ID},file=${optValue(file)}`]);
  } finally {
    rmSync(file, { force: true });
  }
}

/** For Engine.open: key files a killed engine left (withKeyArgs removes its own). */
export function sweepKeyFiles(home: string, env: NodeJS.ProcessEnv): string[] {
  const dir = join(runtimeRoot(home, env), KEYS_DIR);
  if (!existsSync(dir)) return [];
  const left = readdirSync(dir);
  for (const f of left) rmSync(join(dir, f), { force: true });
  return left.map((f) => `${KEYS_DIR}/${f}`);
}

/** The key as a secret object in a running QEMU, removed again after `fn`. */
export async function withQmpSecret<T>(qmp: QmpClient, key: Buffer, fn: () => Promise<T>): Promise<T> {
  // One an engine killed mid-backup left in this QEMU would clash by id.
  await qmp.execute('object-del', { id: SECRET_ID }).catch(() => undefined);
  await qmp.execute('object-add', {
    'qom-type': 'secret',
    id: SECRET_ID,
    data: key.toString('base64'),
    format: 'base64',
  });
  try {
    return await fn();
  } finally {
    await qmp.execute('object-del', { id: SECRET_ID }).catch(() => undefined);
  }
}

/** The qcow2 node options that open an encrypted image with the key. */
export const ENCRYPT_NODE = { encrypt: { format: 'luks', 'key-secret': SECRET_ID } };
/**
 * qemu-img create's options for a new encrypted image. The key derivation is tuned to take about
 * a second on this machine (cryptsetup's default is two): every encrypted image a backup, restore
 * or verify opens costs that much, and a chain opens one per point.
 */
export const LUKS_CREATE = `encrypt.format=luks,encrypt.key-secret=${SECRET_ID},encrypt.iter-time=1000`;
/** QMP commands that open encrypted images derive a key per image, blocking the monitor. */
export const OPEN_TIMEOUT_MS = 10 * 60_000;

/**
 * A chain of qcow2 files (top first) as one image name for qemu-img: every node named, with its
 * key when encrypted, and no backing file read from a header.
 */
export function chainImage(paths: string[], encrypted: boolean): string {
  const node = (rest: string[]): Record<string, unknown> | null =>
    rest.length
      ? {
          driver: 'qcow2',
          file: { driver: 'file', filename: rest[0] },
          ...(encrypted ? ENCRYPT_NODE : {}),
          backing: node(rest.slice(1)),
        }
      : null;
  return `json:${JSON.stringify(node(paths))}`;
}

/**
 * Creating a LUKS header times the key derivation with the thread's CPU clock; on a host whose
 * clock ticks coarsely QEMU may read no time passing and give up ("Unable to get accurate CPU
 * usage"). Another try measures again.
 */
export async function retryLuksTiming<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 8 || !/accurate CPU usage/.test((err as Error).message)) throw err;
    }
  }
}

/** A wrong key, as QEMU says it, in words that say what to do. */
export function explainKey(err: unknown, what: string): unknown {
  if (err instanceof Error && /Invalid password|cannot unlock any keyslot/i.test(err.message))
    return new HangarError(
      'INVALID_INPUT',
      `The key does not open ${what}: check the passphrase or key file.`,
    );
  return err;
}

const derived = new Map<string, Buffer>();

/**
 * The key for sealing the small files of one point: scrypt at N=2^17, r=8 (OWASP's figure), about
 * half a second; the last few are remembered, as one restore opens several files of a point.
 */
export function fileKey(secret: Buffer, saltHex: string): Buffer {
  const id = createHash('sha256').update(saltHex).update(secret).digest('hex');
  const hit = derived.get(id);
  if (hit) return hit;
  const key = scryptSync(secret, Buffer.from(saltHex, 'hex'), 32, {
    N: 1 << 17,
    r: 8,
    p: 1,
    maxmem: 256 << 20,
  });
  if (derived.size >= 8) derived.delete(derived.keys().next().value!);
  derived.set(id, key);
  return key;
}

export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

/** The sealed form of a small file; its name is bound in, so sealed files cannot be swapped. */
export function seal(plain: Buffer, name: string, key: Buffer): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(name));
  const body = Buffer.concat([c.update(plain), c.final()]);
  return Buffer.concat([MAGIC, iv, c.getAuthTag(), body]);
}

/** The plain bytes of a sealed file; a wrong key (or a changed file) is a clear error. */
export function openSealed(path: string, name: string, key: Buffer): Buffer {
  const all = readFileSync(path);
  if (all.length < MAGIC.length + 28 || !all.subarray(0, MAGIC.length).equals(MAGIC))
    throw new HangarError('CONFIG_CORRUPT', `${name} in the backup is not a sealed file.`);
  const iv = all.subarray(MAGIC.length, MAGIC.length + 12);
  const tag = all.subarray(MAGIC.length + 12, MAGIC.length + 28);
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(Buffer.from(name));
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(all.subarray(MAGIC.length + 28)), d.final()]);
  } catch {
    throw new HangarError(
      'INVALID_INPUT',
      `The key does not open ${name} of this backup: check the passphrase or key file.`,
    );
  }
}
