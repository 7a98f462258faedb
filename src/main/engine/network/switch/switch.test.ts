import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameError, FrameReader, MAX_FRAME_BYTES } from './frames';
import { AGE_MS, MacTable, MAX_ENTRIES } from './learning';

const mac = (last: number) => Buffer.from([0x52, 0x54, 0x00, 0, 0, last]);
const BROADCAST = Buffer.alloc(6, 0xff);
const frame = (dst: Buffer, src: Buffer, payload = 'x') =>
  Buffer.concat([dst, src, Buffer.from([0x08, 0x00]), Buffer.from(payload)]);

describe('stream framing', () => {
  it('splits frames however the bytes arrive, and keeps each intact', () => {
    const frames = [frame(BROADCAST, mac(1), 'one'), frame(mac(1), mac(2), 'two'.repeat(500))];
    const wire = Buffer.concat(frames.map(encodeFrame));
    for (const step of [1, 3, 7, wire.length]) {
      const r = new FrameReader();
      const got: Buffer[] = [];
      for (let i = 0; i < wire.length; i += step) got.push(...r.push(wire.subarray(i, i + step)));
      expect(got).toEqual(frames);
    }
  });

  it('refuses lengths no Ethernet frame has (a peer that lost sync, or a hostile one)', () => {
    const bad = Buffer.alloc(4);
    bad.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    expect(() => new FrameReader().push(bad)).toThrow(FrameError);
    expect(() => new FrameReader().push(Buffer.from([0, 0, 0, 3, 1, 2, 3]))).toThrow(/3 bytes/);
  });
});

describe('MAC learning', () => {
  it('floods the unknown and broadcast, then sends to the learned port only', () => {
    const t = new MacTable();
    const ports = [1, 2, 3];
    expect(t.route(frame(BROADCAST, mac(1)), 1, ports)).toEqual([2, 3]);
    expect(t.route(frame(mac(9), mac(2)), 2, ports)).toEqual([1, 3]); // unknown destination
    expect(t.route(frame(mac(1), mac(2)), 2, ports)).toEqual([1]);
    expect(t.route(frame(mac(2), mac(1)), 1, ports)).toEqual([2]);
    // Never back out of the port it came in on.
    expect(t.route(frame(mac(1), mac(1)), 1, ports)).toEqual([]);
  });

  it('forgets a port that leaves and entries that age, and stays bounded', () => {
    let now = 0;
    const t = new MacTable(() => now);
    t.route(frame(BROADCAST, mac(1)), 1, [1, 2]);
    t.forgetPort(1);
    expect(t.route(frame(mac(1), mac(2)), 2, [2, 3])).toEqual([3]);
    t.route(frame(BROADCAST, mac(3)), 3, [2, 3]);
    now += AGE_MS;
    expect(t.route(frame(mac(3), mac(2)), 2, [2, 3, 4])).toEqual([3, 4]);
    // A group-bit source is never learned.
    t.route(frame(BROADCAST, Buffer.from([0x01, 0, 0x5e, 0, 0, 1])), 4, [2, 3, 4]);
    expect(t.route(frame(Buffer.from([0x01, 0, 0x5e, 0, 0, 1]), mac(2)), 2, [2, 3, 4])).toEqual([3, 4]);
    for (let i = 0; i < MAX_ENTRIES + 50; i++) {
      const m = Buffer.from([0x52, 0x54, (i >> 16) & 255, (i >> 8) & 255, i & 255, 7]);
      t.route(frame(BROADCAST, m), 2, [2, 3]);
    }
    expect(t.size).toBe(MAX_ENTRIES);
  });
});
