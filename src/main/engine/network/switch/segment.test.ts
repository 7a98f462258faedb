import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, FrameReader } from './frames';
import { Segment, SWITCH_PORT } from './segment';

const dir = mkdtempSync(join(tmpdir(), 'hangar-seg-'));
const segments: Segment[] = [];
afterEach(async () => {
  for (const s of segments.splice(0)) await s.close();
});
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const mac = (n: number) => Buffer.from([0x52, 0x54, 0, 0, 0, n]);
const BROADCAST = Buffer.alloc(6, 0xff);
const frame = (dst: Buffer, src: Buffer, text: string) =>
  Buffer.concat([dst, src, Buffer.from([0x08, 0x00]), Buffer.from(text)]);

/** A stand-in for a QEMU NIC: the same framing on a UNIX stream socket. */
async function nic(path: string) {
  const sock: Socket = connect(path);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const reader = new FrameReader();
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(...reader.push(d)));
  return { sock, got, send: (f: Buffer) => sock.write(encodeFrame(f)) };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

describe('a lab segment', () => {
  it('forwards frames between NICs by learned MAC, floods broadcasts, and lets services answer', async () => {
    const tapped: number[] = [];
    const seg = new Segment(join(dir, 'a.sock'), { tap: (_f, from) => tapped.push(from) });
    segments.push(seg);
    await seg.listen();
    expect(statSync(join(dir, 'a.sock')).mode & 0o777).toBe(0o600);
    const [a, b, c] = [await nic(seg.socketPath!), await nic(seg.socketPath!), await nic(seg.socketPath!)];
    await until(() => seg.portCount === 3);
    a.send(frame(BROADCAST, mac(1), 'hello all'));
    await until(() => b.got.length === 1 && c.got.length === 1);
    b.send(frame(mac(1), mac(2), 'to a only'));
    await until(() => a.got.length === 1);
    expect(a.got[0]!.subarray(14).toString()).toBe('to a only');
    expect(c.got).toHaveLength(1); // c saw the broadcast only
    seg.inject(frame(mac(2), mac(200), 'from the switch'));
    await until(() => b.got.length === 2);
    expect(tapped).toEqual([1, 2, SWITCH_PORT]);
    for (const n of [a, b, c]) n.sock.destroy();
  });

  it('disconnects a port that breaks the framing; the others go on', async () => {
    const seg = new Segment(join(dir, 'b.sock'));
    segments.push(seg);
    await seg.listen();
    const good = await nic(seg.socketPath!);
    const bad = await nic(seg.socketPath!);
    await until(() => seg.portCount === 2);
    const closed = new Promise((r) => bad.sock.once('close', r));
    bad.sock.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await closed;
    await until(() => seg.portCount === 1);
    const other = await nic(seg.socketPath!);
    other.send(frame(BROADCAST, mac(5), 'still here'));
    await until(() => good.got.length === 1);
    good.sock.destroy();
    other.sock.destroy();
  });

  it('keeps two segments apart: a frame on one never reaches the other', async () => {
    const one = new Segment(join(dir, 'one.sock'));
    const two = new Segment(join(dir, 'two.sock'));
    segments.push(one, two);
    await one.listen();
    await two.listen();
    const a = await nic(one.socketPath!);
    const b = await nic(one.socketPath!);
    const x = await nic(two.socketPath!);
    await until(() => one.portCount === 2 && two.portCount === 1);
    a.send(frame(BROADCAST, mac(1), 'segment one'));
    await until(() => b.got.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(x.got).toHaveLength(0);
    for (const n of [a, b, x]) n.sock.destroy();
  });
});
