// Splits what the guest agent sends into lines, on bytes. The guest is untrusted, so the bytes held
// while waiting for a newline are bounded: past the limit the stream is declared broken and nothing more
// is kept. A 0xFF byte (never part of UTF-8) is the sentinel qemu-ga writes before the answer to
// guest-sync-delimited; it means "forget any partial line", so a leftover fragment from an earlier
// session cannot be glued onto the answer we are waiting for.

export class ReplyReader {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Set once a line outgrew the limit; the stream is unusable after it. */
  overflowed = false;

  constructor(readonly maxLineBytes: number) {}

  /** Bytes held for a line not yet complete. */
  get bufferedBytes(): number {
    return this.size;
  }

  /** Returns the lines completed by `chunk`, decoded, without their newline. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    if (this.overflowed) return lines;
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const ff = chunk.indexOf(0xff, start);
      const end = nl === -1 ? ff : ff === -1 ? nl : Math.min(nl, ff);
      if (end === -1) break;
      if (chunk[end] === 0xff) {
        this.drop();
      } else {
        const part = chunk.subarray(start, end);
        if (this.size + part.length > this.maxLineBytes) return this.overflow(lines);
        const bytes = this.size === 0 ? part : Buffer.concat([...this.chunks, part]);
        this.drop();
        lines.push(bytes.toString('utf8'));
      }
      start = end + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Checked before a newline arrives: a guest that never sends one cannot grow our memory.
      if (this.size + rest.length > this.maxLineBytes) return this.overflow(lines);
      // A copy, so a small remainder does not pin the whole chunk it came in.
      this.chunks.push(Buffer.from(rest));
      this.size += rest.length;
    }
    return lines;
  }

  private overflow(lines: string[]): string[] {
    this.drop();
    this.overflowed = true;
    return lines;
  }

  private drop(): void {
    this.chunks = [];
    this.size = 0;
  }
}
