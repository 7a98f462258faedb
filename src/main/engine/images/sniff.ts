// What kind of file a user handed over, read from its first bytes by Hangar itself: qemu-img is
// then told the format (-f) and never guesses. Formats that can name other files (vmdk extents,
// qcow2 backing and data files) are checked before qemu-img opens them (see refs.ts).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export type SniffedFormat = 'qcow2' | 'vmdk' | 'vdi' | 'vhdx' | 'vpc' | 'iso' | 'ova' | 'raw';

/** `length` bytes from `offset`; past the end of a short file, zeros (never a short buffer). */
function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  readSync(fd, buf, 0, length, offset);
  return buf;
}

export function sniffFormat(path: string): SniffedFormat {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = readAt(fd, 0, 512);
    const ascii = head.toString('latin1');
    if (head.readUInt32BE(0) === 0x514649fb) return 'qcow2';
    if (ascii.startsWith('KDMV') || /^#\s*Disk DescriptorFile/.test(ascii)) return 'vmdk';
    if (ascii.startsWith('vhdxfile')) return 'vhdx';
    if (head.readUInt32LE(0x40) === 0xbeda107f) return 'vdi';
    if (ascii.startsWith('conectix')) return 'vpc';
    if (ascii.slice(257, 262) === 'ustar') return 'ova';
    if (isIso9660(fd)) return 'iso';
    // A fixed VHD has its footer only at the end.
    if (size >= 512 && readAt(fd, size - 512, 8).toString('latin1') === 'conectix') return 'vpc';
    return 'raw';
  } finally {
    closeSync(fd);
  }
}

/** ISO 9660 ("CD001") or UDF ("BEA01"/"NSR0x") volume descriptors at 32 KiB. */
function isIso9660(fd: number): boolean {
  for (let sector = 16; sector < 20; sector++) {
    const id = readAt(fd, sector * 2048 + 1, 5).toString('latin1');
    if (id === 'CD001' || id === 'BEA01' || id.startsWith('NSR0')) return true;
  }
  return false;
}

/** The ISO 9660 primary volume descriptor's identifiers (what osinfo's media patterns match), or null. */
export function isoIds(
  path: string,
): { volume: string; system: string; publisher: string; application: string } | null {
  const fd = openSync(path, 'r');
  try {
    const pvd = readAt(fd, 16 * 2048, 2048);
    if (pvd[0] !== 1 || pvd.toString('latin1', 1, 6) !== 'CD001') return null;
    const field = (from: number, to: number) => pvd.toString('latin1', from, to).trim();
    return {
      system: field(8, 40),
      volume: field(40, 72),
      publisher: field(318, 446),
      application: field(574, 702),
    };
  } finally {
    closeSync(fd);
  }
}
