// Unpacks an OVA (a tar of an OVF, its disks and an optional manifest) as untrusted input: members
// must be plain files with plain names (no folders, no `..`, no absolute paths, no links or
// devices), no name twice, their declared sizes must fit the free space before anything is
// written, and every digest the manifest lists must match.
import { createReadStream, createWriteStream, mkdirSync, statfsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { HangarError } from '../../../shared/errors';
import { formatSize } from '../storage/size';

/** An OVF is a page of XML; one larger than this is not read. */
export const MAX_OVF = 4 << 20;

export interface Unpacked {
  dir: string;
  files: Map<string, { size: number; sha256: string; sha1: string }>;
}

function checkName(name: string): void {
  const bad =
    name === '' ||
    name.startsWith('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    name.split('/').includes('..');
  if (bad)
    throw new HangarError(
      'INVALID_INPUT',
      `The OVA holds a member "${name}" whose path leaves the import folder; refused.`,
    );
  if (name.includes('/') || name === '.' || name.startsWith('-'))
    throw new HangarError(
      'INVALID_INPUT',
      `The OVA holds a member in a folder ("${name}"); an OVA's files sit at its top level.`,
    );
}

/** A member may be read: a plain file with a plain name, not seen before in this archive. */
function checkMember(header: { name: string; type: string | null }, seen: Map<string, unknown>): void {
  checkName(header.name);
  if (header.type !== 'file')
    throw new HangarError(
      'INVALID_INPUT',
      `The OVA member "${header.name}" is a ${header.type}, not a file; refused.`,
    );
  if (seen.has(header.name))
    throw new HangarError('INVALID_INPUT', `The OVA holds "${header.name}" twice; refused.`);
}

export async function unpackOva(ova: string, dir: string): Promise<Unpacked> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statfsSync(dir);
  let room = st.bavail * st.bsize;
  const files: Unpacked['files'] = new Map();
  const ex = extract();
  const source = createReadStream(ova);
  source.on('error', (err) => ex.destroy(err));
  source.pipe(ex);
  try {
    for await (const entry of ex) {
      const { header } = entry;
      checkMember(header, files);
      const size = header.size ?? 0;
      if (size > room)
        throw new HangarError(
          'IO_ERROR',
          `The OVA member "${header.name}" declares ${formatSize(size)}, more than the ${formatSize(room)} free; nothing is imported.`,
          { need: size, free: room },
        );
      room -= size;
      const h256 = createHash('sha256');
      const h1 = createHash('sha1');
      const tap = new Transform({
        transform(chunk: Buffer, _e, cb) {
          h256.update(chunk);
          h1.update(chunk);
          cb(null, chunk);
        },
      });
      await pipeline(entry, tap, createWriteStream(join(dir, header.name), { flags: 'wx', mode: 0o600 }));
      files.set(header.name, { size, sha256: h256.digest('hex'), sha1: h1.digest('hex') });
    }
  } catch (err) {
    source.destroy();
    if (err instanceof HangarError) throw err;
    const msg = (err as Error).message;
    throw new HangarError(
      'INVALID_INPUT',
      /unexpected end|premature|truncat/i.test(msg)
        ? `The OVA ${ova} is truncated (${msg}); download or export it again.`
        : `The OVA ${ova} could not be read as a tar archive: ${msg}`,
    );
  }
  if (files.size === 0) throw new HangarError('INVALID_INPUT', `${ova} holds no files; it is not an OVA.`);
  return { dir, files };
}

/** Checks every line of the manifest ("SHA256(disk.vmdk)= <hex>", SHA1 too) against the files. */
export function checkManifest(text: string, files: Unpacked['files']): number {
  let checked = 0;
  for (const line of text.split(/\r?\n/)) {
    const m = /^(SHA1|SHA256|SHA512)\s*\(([^)]+)\)\s*=\s*([0-9a-fA-F]+)\s*$/.exec(line.trim());
    if (!m) continue;
    const [, algo, name, digest] = m as unknown as [string, string, string, string];
    const f = files.get(name);
    if (!f)
      throw new HangarError(
        'INVALID_INPUT',
        `The OVA's manifest lists ${name}, which the OVA does not hold.`,
      );
    if (algo === 'SHA512') continue; // not computed; SHA-256 or SHA-1 lines come with it in practice
    const actual = algo === 'SHA256' ? f.sha256 : f.sha1;
    if (actual !== digest.toLowerCase())
      throw new HangarError(
        'INVALID_INPUT',
        `${name} does not match the OVA's manifest: it lists ${algo} ${digest.toLowerCase()}, the file has ${actual}. Nothing was imported.`,
      );
    checked++;
  }
  return checked;
}

/**
 * The OVF and the member list of an OVA, without unpacking the disks: what an import would make
 * and what it could not honour, shown before anything is written. Names are checked as unpack does.
 */
export async function readOvaDescriptor(ova: string): Promise<{ ovf: string; members: Map<string, number> }> {
  const members = new Map<string, number>();
  let ovf: string | null = null;
  const ex = extract();
  const source = createReadStream(ova);
  source.on('error', (err) => ex.destroy(err));
  source.pipe(ex);
  try {
    for await (const entry of ex) {
      const { header } = entry;
      // The same rules as the import (unpackOva), so a plan never promises what it refuses.
      checkMember(header, members);
      members.set(header.name, header.size ?? 0);
      if (header.name.toLowerCase().endsWith('.ovf')) {
        if (ovf !== null)
          throw new HangarError(
            'INVALID_INPUT',
            'The OVA must hold exactly one .ovf descriptor; it holds more.',
          );
        if ((header.size ?? 0) > MAX_OVF)
          throw new HangarError(
            'INVALID_INPUT',
            `The OVF descriptor is larger than ${MAX_OVF >> 20} MiB; refused.`,
          );
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        ovf = Buffer.concat(chunks).toString('utf8');
      } else {
        entry.resume();
        await new Promise<void>((resolve) => entry.on('end', () => resolve()));
      }
    }
  } catch (err) {
    source.destroy();
    if (err instanceof HangarError) throw err;
    throw new HangarError(
      'INVALID_INPUT',
      `The OVA ${ova} could not be read as a tar archive: ${(err as Error).message}`,
    );
  }
  if (ovf === null)
    throw new HangarError('INVALID_INPUT', `${ova} holds no .ovf descriptor; it is not an OVA.`);
  return { ovf, members };
}
