// QEMU's `-netdev stream` (and passt, and `-netdev socket` over a stream) carries Ethernet frames
// on a byte stream, each preceded by its length as a 32-bit big-endian number. A reader keeps the
// bytes of a frame not yet complete; a length no Ethernet frame can have ends the connection,
// since it means the two ends no longer agree where frames begin.

/** Ethernet with a VLAN tag is 1522 bytes; QEMU's own limit for a stream peer is 69632 (NET_BUFSIZE). */
export const MAX_FRAME_BYTES = 65536;
/** A destination and source MAC and an EtherType: anything shorter is not a frame. */
export const MIN_FRAME_BYTES = 14;

export class FrameError extends Error {}

export function encodeFrame(frame: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(frame.length, 0);
  return Buffer.concat([head, frame]);
}

export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Every frame completed by `chunk`, in order; throws FrameError on a length out of bounds. */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Buffer[] = [];
    let at = 0;
    while (this.pending.length - at >= 4) {
      const len = this.pending.readUInt32BE(at);
      if (len < MIN_FRAME_BYTES || len > MAX_FRAME_BYTES)
        throw new FrameError(`a frame length of ${len} bytes; the peer is not speaking Ethernet frames`);
      if (this.pending.length - at - 4 < len) break;
      // Copied out: the frame outlives the chunk it came in (it is queued to other ports).
      frames.push(Buffer.from(this.pending.subarray(at + 4, at + 4 + len)));
      at += 4 + len;
    }
    this.pending = at === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(at);
    return frames;
  }
}
