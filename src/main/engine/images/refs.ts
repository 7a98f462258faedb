// Files that name other files: a vmdk descriptor lists extent files by path, and a qcow2 may have
// a backing file or an external data file. A hostile image could point those at any host file
// (/etc/shadow as an "extent") and a conversion would copy it into a disk the guest can read, so
// every name is checked before qemu-img opens the image: extents must be plain files beside it.
import { closeSync, lstatSync, openSync, readSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HangarError } from '../../../shared/errors';

// QEMU reads a text descriptor of up to 1 MiB; so does this check.
const MAX_DESCRIPTOR = 1 << 20;

/**
 * The descriptor QEMU would follow, or null when the file is its own only extent: a binary
 * ("KDMV") vmdk with a capacity is opened as one sparse extent, but with capacity 0 QEMU reads its
 * embedded descriptor as a descriptor file and opens the extents it names.
 */
function followedDescriptor(path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(512);
    readSync(fd, head, 0, 512, 0);
    if (head.toString('latin1', 0, 4) !== 'KDMV') {
      const buf = Buffer.alloc(MAX_DESCRIPTOR);
      const n = readSync(fd, buf, 0, MAX_DESCRIPTOR, 0);
      return buf.toString('latin1', 0, n);
    }
    const capacity = head.readBigUInt64LE(12);
    // The embedded descriptor's offset and size, in sectors.
    const offset = Number(head.readBigUInt64LE(28));
    const sectors = Number(head.readBigUInt64LE(36));
    if (!offset || !sectors) {
      if (capacity === 0n)
        throw new HangarError(
          'INVALID_INPUT',
          `${path} is a vmdk with no capacity and no descriptor; not a disk.`,
        );
      return null;
    }
    const size = Math.min(sectors * 512, MAX_DESCRIPTOR);
    const buf = Buffer.alloc(size);
    const n = readSync(fd, buf, 0, size, offset * 512);
    const text = buf.toString('latin1', 0, n);
    if (capacity !== 0n) {
      // Its own only extent; a parent hint still makes it a differencing disk.
      refuseParent(path, text);
      return null;
    }
    return text;
  } finally {
    closeSync(fd);
  }
}

function refuseParent(path: string, text: string): void {
  const parent = /^\s*parentFileNameHint\s*=\s*"([^"]*)"/m.exec(text);
  if (parent)
    throw new HangarError(
      'UNSUPPORTED',
      `${path} is a differencing vmdk built on ${parent[1]}; import its parent disk instead (or merge them in the tool that made it).`,
    );
}

/**
 * The extent file names a vmdk descriptor lists (`RW 4192256 SPARSE "disk-s001.vmdk"`). A line
 * that starts like an extent but is not in exactly this shape is refused: QEMU's own reading is
 * more lenient (a "+8" size), and a line this check skipped could name any host file.
 */
export function vmdkExtents(path: string): string[] {
  const text = followedDescriptor(path);
  if (text === null) return [];
  refuseParent(path, text);
  const names: string[] = [];
  for (const raw of text.split(/[\r\n]+/)) {
    const line = raw.trim();
    if (!/^(RW|RDONLY|NOACCESS)\b/i.test(line)) continue;
    const m =
      /^(RW|RDONLY|NOACCESS) [1-9]\d{0,18} (SPARSE|FLAT|ZERO|VMFS|VMFSSPARSE|SESPARSE) "([^"]*)"( \d{1,19})?$/.exec(
        line.replace(/[ \t]+/g, ' '),
      );
    if (!m)
      throw new HangarError(
        'INVALID_INPUT',
        `${path} has an extent line Hangar cannot read: "${line.slice(0, 120)}".`,
      );
    if (m[2] !== 'ZERO') names.push(m[3]!);
  }
  return names;
}

/**
 * Refuses a vmdk whose extents are not plain files in its own folder. A sparse file (monolithic
 * or stream-optimized, "KDMV", with a capacity) is its own only extent: QEMU opens no file its
 * embedded descriptor names, which still carries the name it was made under.
 */
export function checkVmdkExtents(path: string): string[] {
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
