// Files that name other files: a vmdk descriptor lists extent files by path, and a qcow2 may have
// a backing file or an external data file. A hostile image could point those at any host file
// (/etc/shadow as an "extent") and a conversion would copy it into a disk the guest can read, so
// every name is checked before qemu-img opens the image: extents must be plain files beside it.
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HangarError } from '../../../shared/errors';

const MAX_DESCRIPTOR = 64 * 1024;

function descriptorText(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(512);
    readSync(fd, head, 0, 512, 0);
    if (head.toString('latin1', 0, 4) !== 'KDMV') {
      const buf = Buffer.alloc(MAX_DESCRIPTOR);
      const n = readSync(fd, buf, 0, MAX_DESCRIPTOR, 0);
      return buf.toString('latin1', 0, n);
    }
    // A sparse extent's header: the embedded descriptor's offset and size, in sectors.
    const offset = Number(head.readBigUInt64LE(28));
    const sectors = Number(head.readBigUInt64LE(36));
    if (!offset || !sectors) return '';
    const size = Math.min(sectors * 512, MAX_DESCRIPTOR);
    const buf = Buffer.alloc(size);
    const n = readSync(fd, buf, 0, size, offset * 512);
    return buf.toString('latin1', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** The extent file names a vmdk descriptor lists (`RW 4192256 SPARSE "disk-s001.vmdk"`). */
export function vmdkExtents(path: string): string[] {
  const names: string[] = [];
  for (const line of descriptorText(path).split(/\r?\n/)) {
    const m = /^\s*(RW|RDONLY|NOACCESS)\s+\d+\s+\w+\s+"([^"]*)"/.exec(line);
    if (m) names.push(m[2]!);
  }
  const parent = /^\s*parentFileNameHint\s*=\s*"([^"]*)"/m.exec(descriptorText(path));
  if (parent) {
    throw new HangarError(
      'UNSUPPORTED',
      `${path} is a differencing vmdk built on ${parent[1]}; import its parent disk instead (or merge them in the tool that made it).`,
    );
  }
  return names;
}

function isSparseExtent(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return head.toString('latin1') === 'KDMV';
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses a vmdk whose extents are not plain files in its own folder. A sparse file (monolithic
 * or stream-optimized, "KDMV") is its own only extent: QEMU opens no file its embedded descriptor
 * names, which still carries the name it was made under.
 */
export function checkVmdkExtents(path: string): string[] {
  if (isSparseExtent(path)) {
    vmdkExtents(path); // still refuses a differencing disk
    return [];
  }
  const dir = dirname(path);
  const extents = vmdkExtents(path);
  for (const name of extents) {
    const bad =
      name === '' ||
      name.includes('/') ||
      name.includes('\\') ||
      name === '.' ||
      name === '..' ||
      name.includes('\0');
    if (bad)
      throw new HangarError(
        'INVALID_INPUT',
        `${path} names an extent "${name}" outside its folder; Hangar reads extents only from beside the descriptor.`,
      );
    if (name === basename(path)) continue;
    const st = lstatSync(join(dir, name), { throwIfNoEntry: false });
    if (!st) throw new HangarError('NOT_FOUND', `${path} needs its extent ${name}, which is not beside it.`);
    if (!st.isFile())
      throw new HangarError(
        'INVALID_INPUT',
        `The extent ${name} of ${path} is not a regular file (a link?).`,
      );
  }
  return extents;
}
