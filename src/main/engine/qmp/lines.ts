// Splits the byte stream from QEMU into lines. It works on bytes, not strings: 0x0A never occurs
// inside a multi-byte UTF-8 sequence, so a line is decoded only once it is whole and a character split
// across two reads cannot be mangled.

export class LineSplitter {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Length in bytes of the first line found over the limit; the stream is unusable after it. */
  overflow: number | undefined;

  constructor(readonly maxLineBytes: number) {}

  /** Returns the lines completed by `chunk`, without their '\n' (a trailing '\r' is kept). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    if (this.overflow !== undefined) return lines;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const part = chunk.subarray(start, nl);
      const length = this.size + part.length;
      if (length > this.maxLineBytes) {
        this.overflow = length;
        return lines;
      }
      const bytes = this.size === 0 ? part : Buffer.concat([...this.chunks, part], length);
      this.chunks = [];
      this.size = 0;
      lines.push(bytes.toString('utf8'));
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.size += rest.length;
      // Checked before the newline arrives, so a peer that never sends one cannot grow memory without bound.
      if (this.size > this.maxLineBytes) {
        this.overflow = this.size;
        this.chunks = [];
        return lines;
      }
      this.chunks.push(rest);
    }
    return lines;
  }
}
