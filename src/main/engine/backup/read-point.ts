// Reading a backup point back out, encrypted or not: its images copied through the chain with
// qemu-img, its configuration, and its small files (TPM state, seed inputs) opened into a folder.
// Callers have checked the chain's hashes and headers first (restore.ts, checkedPoint).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { chainImage, explainKey, fileKey, openSealed, withKeyArgs } from './crypto';
import { CONFIG_COPY } from './manifest';
import type { ListedBackup } from './repository';

/** The key an encrypted point needs, or a clear error; null for a point that is not encrypted. */
export function keyFor(leaf: ListedBackup, key: Buffer | null): Buffer | null {
  if (!leaf.manifest.encryption) return null;
  if (!key)
    throw new HangarError(
      'INVALID_INPUT',
      `Backup ${leaf.manifest.id} is encrypted: give its key (--passphrase-file FILE or --key-file FILE).`,
    );
  return key;
}

/** The VM configuration a point holds: the manifest's, or the sealed vm.json of an encrypted one. */
export function pointConfig(leaf: ListedBackup, key: Buffer | null): unknown {
  const k = keyFor(leaf, key);
  if (!k) return leaf.manifest.config;
  const plain = openSealed(
    join(leaf.dir, CONFIG_COPY),
    CONFIG_COPY,
    fileKey(k, leaf.manifest.encryption!.salt),
  );
  try {
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch {
    throw new HangarError('CONFIG_CORRUPT', `The vm.json of backup ${leaf.manifest.id} is not JSON.`);
  }
}

/** Writes the point's files under `prefix/` (plain, or opened with the key) into `toDir`. */
export function copySmallFiles(
  leaf: ListedBackup,
  prefix: string,
  toDir: string,
  key: Buffer | null,
): string[] {
  const k = keyFor(leaf, key);
  const fk = k ? fileKey(k, leaf.manifest.encryption!.salt) : null;
  const names = leaf.manifest.files.map((f) => f.name).filter((n) => n.startsWith(`${prefix}/`));
  for (const name of names) {
    const to = join(toDir, name);
    mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
    const bytes = fk ? openSealed(join(leaf.dir, name), name, fk) : null;
    // Small files only (a TPM state, seed inputs): read whole.
    writeFileSync(to, bytes ?? readFileSync(join(leaf.dir, name)), { mode: 0o600 });
  }
  return names;
}

/**
 * One image of the point (`file`, e.g. disk0.qcow2), read through the points under it, written as
 * a plain qcow2: a new file, or (`into`) over an existing image of the same size.
 */
export async function copyImage(
  engine: EngineContext,
  chain: ListedBackup[],
  file: string,
  out: string,
  o: { key: Buffer | null; into?: boolean; onProgress?: (percent: number) => void },
): Promise<void> {
  const leaf = chain[0]!;
  const key = keyFor(leaf, o.key);
  const target = ['-O', 'qcow2', ...(o.into ? ['-n'] : [])];
  if (!key) {
    // -f qcow2: the point's own format; its backing files are named in its header with their
    // format (-F qcow2 when written), and their bytes and headers were checked.
    await engine.img.runProgress(
      ['convert', '-p', '-f', 'qcow2', ...target, join(leaf.dir, file), out],
      o.onProgress,
    );
    return;
  }
  // Encrypted: every node named with the key, none read from a header.
  const image = chainImage(
    chain.map((b) => join(b.dir, file)),
    true,
  );
  await withKeyArgs(engine, key, (secret) =>
    engine.img.runProgress(['convert', '-p', ...secret, ...target, image, out], o.onProgress),
  ).catch((err: unknown) => {
    throw explainKey(err, `backup ${leaf.manifest.id}`);
  });
}
