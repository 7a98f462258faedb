// A capture file in the classic libpcap format (what tcpdump -r and Wireshark read): a global
// header, then a record header per frame. Capped so a forgotten capture cannot fill the disk.
import { createWriteStream, type WriteStream } from 'node:fs';

export const CAPTURE_MAX_BYTES = 512 * 1024 * 1024;
const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 65535;

export class PcapWriter {
  private readonly out: WriteStream;
  private written = 0;
  frames = 0;
  full = false;

  constructor(path: string) {
    // wx: never overwrite a file the user already has; 0600: frames are private traffic.
    this.out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    const head = Buffer.alloc(24);
    head.writeUInt32LE(0xa1b2c3d4, 0);
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
    head.writeUInt32LE(SNAPLEN, 16);
    head.writeUInt32LE(LINKTYPE_ETHERNET, 20);
    this.write(head);
  }

  get errorPromise(): Promise<Error> {
    return new Promise((resolve) => this.out.once('error', resolve));
  }

  add(frame: Buffer, now = Date.now()): void {
    if (this.full) return;
    if (this.written + 16 + frame.length > CAPTURE_MAX_BYTES) {
      this.full = true;
      return;
    }
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(now / 1000), 0);
    rec.writeUInt32LE((now % 1000) * 1000, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    this.write(rec);
    this.write(frame);
    this.frames++;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(() => resolve()));
  }

  private write(b: Buffer): void {
    this.written += b.length;
    this.out.write(b);
  }
}
