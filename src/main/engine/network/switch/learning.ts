// The forwarding decision of a learning switch, one per lab segment: a frame goes to the port its
// destination MAC was last seen on, or to every other port when the destination is unknown,
// broadcast or multicast. Entries age out, and a port that goes away forgets its MACs, so a VM
// restarted on another port is found again by its first frame.

export const AGE_MS = 300_000;
/** A guest sending from endless made-up source MACs must not grow the table without bound. */
export const MAX_ENTRIES = 4096;

export type PortId = number;

export function macOf(frame: Buffer, offset: 0 | 6): string {
  return frame.subarray(offset, offset + 6).toString('hex');
}

export class MacTable {
  private readonly entries = new Map<string, { port: PortId; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The ports a frame from `from` goes to (never back to `from`). */
  route(frame: Buffer, from: PortId, ports: Iterable<PortId>): PortId[] {
    const src = macOf(frame, 6);
    // The group bit: broadcast and multicast sources are not valid; they are never learned.
    if ((frame[6]! & 1) === 0) this.learn(src, from);
    const dstGroup = (frame[0]! & 1) === 1;
    if (!dstGroup) {
      const known = this.entries.get(macOf(frame, 0));
      if (known && this.now() - known.at < AGE_MS) return known.port === from ? [] : [known.port];
    }
    return [...ports].filter((p) => p !== from);
  }

  forgetPort(port: PortId): void {
    for (const [mac, e] of this.entries) if (e.port === port) this.entries.delete(mac);
  }

  get size(): number {
    return this.entries.size;
  }

  private learn(mac: string, port: PortId): void {
    if (!this.entries.has(mac) && this.entries.size >= MAX_ENTRIES) {
      // Drop the oldest entry (Map keeps insertion order; a re-learned MAC moves to the end).
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.delete(mac);
    this.entries.set(mac, { port, at: this.now() });
  }
}
