// Just enough of an RFB (VNC) client to time a handshake and full-screen updates, over any byte
// pipe: a UNIX socket for the baseline, the host server's WebSocket bridge for Hangar. Raw
// encoding only, so every update of the same screen has the same size on both paths.
import { now } from './env';

export interface Pipe {
  write(b: Buffer): void;
  /** Delivers incoming bytes to `fn`. */
  onData(fn: (b: Buffer) => void): void;
  close(): void;
}

export class Rfb {
  private chunks: Buffer[] = [];
  private have = 0;
  private waiter: (() => void) | null = null;
  width = 0;
  height = 0;
  bytesPerPixel = 4;

  constructor(private readonly pipe: Pipe) {
    pipe.onData((b) => {
      this.chunks.push(b);
      this.have += b.length;
      this.waiter?.();
    });
  }

  /** Reads exactly n bytes; a server that stops answering fails the read instead of hanging. */
  private async read(n: number, timeoutMs = 30_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.have < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`RFB: waited ${timeoutMs / 1000} s for ${n} bytes, have ${this.have}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.waiter = () => (clearTimeout(timer), r());
      });
    }
    this.waiter = null;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.have -= n;
    return all.subarray(0, n);
  }

  /** Version, security type None, ClientInit (shared), ServerInit, then raw encoding only. */
  async handshake(): Promise<void> {
    const version = (await this.read(12)).toString('latin1');
    if (!version.startsWith('RFB 003.')) throw new Error(`not an RFB server: ${JSON.stringify(version)}`);
    this.pipe.write(Buffer.from('RFB 003.008\n', 'latin1'));
    const count = (await this.read(1))[0]!;
    if (count === 0) throw new Error('the VNC server refused the connection');
    const types = [...(await this.read(count))];
    if (!types.includes(1)) throw new Error(`no security type None among ${types.join(',')}`);
    this.pipe.write(Buffer.from([1]));
    if ((await this.read(4)).readUInt32BE(0) !== 0) throw new Error('VNC security handshake failed');
    this.pipe.write(Buffer.from([1]));
    const init = await this.read(24);
    this.width = init.readUInt16BE(0);
    this.height = init.readUInt16BE(2);
    this.bytesPerPixel = init[4]! / 8;
    await this.read(init.readUInt32BE(20)); // desktop name
    const enc = Buffer.alloc(8);
    enc.writeUInt8(2, 0); // SetEncodings
    enc.writeUInt16BE(1, 2);
    enc.writeInt32BE(0, 4); // raw
    this.pipe.write(enc);
  }

  /**
   * A round trip QEMU answers at once: SetEncodings naming the extended-key-event pseudo-encoding
   * makes it send that encoding's acknowledgement immediately, with no update timer involved.
   */
  async ping(): Promise<number> {
    const enc = Buffer.alloc(12);
    enc.writeUInt8(2, 0);
    enc.writeUInt16BE(2, 2);
    enc.writeInt32BE(0, 4); // raw stays the only real encoding
    enc.writeInt32BE(-258, 8); // QEMU extended key event
    const t0 = now();
    this.pipe.write(enc);
    const head = await this.read(4);
    const rect = await this.read(12 * head.readUInt16BE(2));
    if (head[0] !== 0 || rect.readInt32BE(8) !== -258) throw new Error('unexpected answer to the RFB ping');
    return now() - t0;
  }

  /**
   * Asks for the whole screen (non-incremental) and reads until every pixel has arrived.
   * Returns the time to the first byte of the answer (mostly QEMU's adaptive refresh timer), to
   * the last, and the bytes received.
   */
  async fullUpdate(): Promise<{ firstMs: number; totalMs: number; bytes: number }> {
    const req = Buffer.alloc(10);
    req.writeUInt8(3, 0);
    req.writeUInt8(0, 1);
    req.writeUInt16BE(this.width, 6);
    req.writeUInt16BE(this.height, 8);
    const t0 = now();
    this.pipe.write(req);
    let first = 0;
    let bytes = 0;
    let pixels = 0;
    while (pixels < this.width * this.height) {
      const head = await this.read(4);
      if (!first) first = now();
      if (head[0] !== 0) throw new Error(`unexpected RFB server message type ${head[0]}`);
      bytes += 4;
      for (let n = head.readUInt16BE(2); n > 0; n--) {
        const rect = await this.read(12);
        const w = rect.readUInt16BE(4);
        const h = rect.readUInt16BE(6);
        const encoding = rect.readInt32BE(8);
        if (encoding !== 0) throw new Error(`unexpected encoding ${encoding}`);
        await this.read(w * h * this.bytesPerPixel);
        bytes += 12 + w * h * this.bytesPerPixel;
        pixels += w * h;
      }
    }
    const end = now();
    return { firstMs: first - t0, totalMs: end - t0, bytes };
  }

  close(): void {
    this.pipe.close();
  }
}
