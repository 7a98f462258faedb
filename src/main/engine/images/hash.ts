// Digests of large files, read once as a stream (optionally copied at the same time), with
// progress by bytes so a multi-GiB image shows how far it has come.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, fsyncSync, openSync, closeSync, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type Algorithm = 'sha256' | 'sha512';

function tap(hashes: Hash[], total: number, onProgress?: (done: number, total: number) => void) {
  let done = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      for (const h of hashes) h.update(chunk);
      done += chunk.length;
      onProgress?.(done, total);
      cb(null, chunk);
    },
  });
}

/** Hex digests of a file, one per algorithm asked for. */
export async function hashFile(
  path: string,
  algorithms: Algorithm[],
  onProgress?: (done: number, total: number) => void,
): Promise<Record<Algorithm, string>> {
  const hashes = algorithms.map((a) => createHash(a));
  const sink = tap(hashes, statSync(path).size, onProgress);
  sink.resume();
  await pipeline(createReadStream(path), sink);
  return Object.fromEntries(algorithms.map((a, i) => [a, hashes[i]!.digest('hex')])) as Record<
    Algorithm,
    string
  >;
}

/** Copies `src` to a new file `dst` (fsynced) and returns its SHA-256. */
export async function copyHashed(
  src: string,
  dst: string,
  onProgress?: (done: number, total: number) => void,
): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(
    createReadStream(src),
    tap([hash], statSync(src).size, onProgress),
    createWriteStream(dst, { flags: 'wx', mode: 0o600 }),
  );
  const fd = openSync(dst, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
