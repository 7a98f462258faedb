// Published checksum lists in the two spellings vendors use: GNU coreutils ("<hex>  name" or
// "<hex> *name", Debian, Ubuntu) and BSD tags ("SHA256 (name) = <hex>", Fedora, Alma, Rocky).
// PGP-signed lists (Fedora's CHECKSUM) carry the same lines inside the signature armour.
import type { Algorithm } from './hash';

export interface ChecksumEntry {
  name: string;
  algorithm: Algorithm;
  digest: string;
}

const LENGTH: Record<number, Algorithm> = { 64: 'sha256', 128: 'sha512' };

export function parseChecksums(text: string): ChecksumEntry[] {
  const out: ChecksumEntry[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    let m = /^(SHA256|SHA512) \((.+)\) = ([0-9a-fA-F]+)$/.exec(line);
    if (m) {
      const algorithm = m[1] === 'SHA256' ? 'sha256' : 'sha512';
      if (LENGTH[m[3]!.length] === algorithm)
        out.push({ name: m[2]!, algorithm, digest: m[3]!.toLowerCase() });
      continue;
    }
    m = /^([0-9a-fA-F]{64}|[0-9a-fA-F]{128}) [ *](.+)$/.exec(line);
    if (m) out.push({ name: m[2]!, algorithm: LENGTH[m[1]!.length]!, digest: m[1]!.toLowerCase() });
  }
  return out;
}

/** The entry for a file name (the last part of its URL); a list naming it twice differently is refused. */
export function checksumFor(entries: ChecksumEntry[], fileName: string): ChecksumEntry | null {
  const hits = entries.filter((e) => e.name.replace(/^\.\//, '') === fileName);
  if (!hits.length) return null;
  const strongest = hits.find((e) => e.algorithm === 'sha512') ?? hits[0]!;
  for (const h of hits)
    if (h.algorithm === strongest.algorithm && h.digest !== strongest.digest)
      throw new Error(`The checksum list gives ${fileName} two different ${h.algorithm} digests.`);
  return strongest;
}
