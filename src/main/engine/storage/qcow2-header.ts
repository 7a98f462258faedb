// The one field of a qcow2 header Hangar reads itself: the backing file name. Reading 20 bytes and
// the name is microseconds, where `qemu-img info` is a process (tens of milliseconds); delete and
// recovery ask it of every other VM's disks. Bounded: a name longer than 4 KiB is not trusted.
import { closeSync, openSync, readSync } from 'node:fs';

/** The backing file name in a qcow2 header, or null (not qcow2, or no backing file). */
export function qcow2Backing(path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(20);
    readSync(fd, head, 0, 20, 0);
    if (head.readUInt32BE(0) !== 0x514649fb) return null; // "QFI\xfb"
    const offset = Number(head.readBigUInt64BE(8));
    const size = head.readUInt32BE(16);
    if (!offset || !size || size > 4096) return null;
    const name = Buffer.alloc(size);
    readSync(fd, name, 0, size, offset);
    return name.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * True when a qcow2 keeps its data in another file (the external data file feature, incompatible
 * bit 2 of a v3 header): QEMU opens the file its header names, read-write, whatever Hangar pins,
 * so such an image is refused (a downloaded one could name ~/.ssh/id_ed25519). False for anything
 * else, a non-qcow2 included.
 */
export function qcow2HasDataFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(80);
    if (readSync(fd, head, 0, 80, 0) < 80 || head.readUInt32BE(0) !== 0x514649fb) return false;
    return head.readUInt32BE(4) >= 3 && (head.readBigUInt64BE(72) & 4n) !== 0n;
  } finally {
    closeSync(fd);
  }
}
