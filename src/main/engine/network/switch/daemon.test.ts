import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, FrameReader } from './frames';
import { SwitchDaemon } from './daemon';
import type { SwitchConfig } from './config';
import { buildUdp, bytesToMac, parseArp, parseUdp, macToBytes, ipToNumber } from './packets';

const daemons: SwitchDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
});

const SERVER_MAC = '52:54:00:fe:00:01';
const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';
const STRANGER = '52:54:00:00:00:99';

function setup(extra: Partial<SwitchConfig> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-sw-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const config: SwitchConfig = {
    lab: 'web',
    domain: 'web.internal',
    runDir: dir,
    segments: [
      {
        name: 'lan',
        serverIp: '10.5.0.1',
        serverMac: SERVER_MAC,
        prefix: 24,
        dhcp: true,
        poolStart: '10.5.0.100',
        leases: [
          { mac: A, ip: '10.5.0.10', host: 'app' },
          { mac: B, ip: '10.5.0.11', host: 'db' },
        ],
        // Where "QEMU" (the tests' stand-ins) listens for each NIC; the switch connects.
        ports: [join(dir, 'nic1.sock'), join(dir, 'nic2.sock')],
      },
    ],
    ...extra,
  };
  const file = join(dir, 'switch.json');
  writeFileSync(file, JSON.stringify(config));
  return { dir, file, config };
}

async function start(file: string) {
  const d = new SwitchDaemon(file);
  daemons.push(d);
  await d.start();
  return d;
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A stand-in for a QEMU NIC: it listens, as QEMU's stream netdev does, until the switch connects. */
async function nic(path: string) {
  const server = createServer();
  servers.push(server);
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(path, () => r()));
  const sock = await accepted;
  const reader = new FrameReader();
  const got: Buffer[] = [];
  sock.on('data', (d: Buffer) => got.push(...reader.push(d)));
  return { sock, got, send: (f: Buffer) => sock.write(encodeFrame(f)) };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

/** A DHCP client message from `mac` (BOOTREQUEST, options: type, requested address). */
function dhcp(mac: string, type: number, requested?: string): Buffer {
  const m = Buffer.alloc(240);
  m[0] = 1;
  m[1] = 1;
  m[2] = 6;
  m.writeUInt32BE(0x1234abcd, 4);
  macToBytes(mac).copy(m, 28);
  m.writeUInt32BE(0x63825363, 236);
  const opts = [53, 1, type];
  if (requested) {
    const ip = Buffer.alloc(4);
    ip.writeUInt32BE(ipToNumber(requested));
    opts.push(50, 4, ...ip);
  }
  opts.push(255);
  const payload = Buffer.concat([m, Buffer.from(opts)]);
  return buildUdp({
    srcMac: mac,
    dstMac: 'ff:ff:ff:ff:ff:ff',
    srcIp: '0.0.0.0',
    dstIp: '255.255.255.255',
    srcPort: 68,
    dstPort: 67,
    payload,
  });
}

/** Reads a DHCP reply: its type, the address offered, and its options by code. */
function readDhcp(frame: Buffer) {
  const udp = parseUdp(frame)!;
  const p = udp.payload;
  const options = new Map<number, Buffer>();
  for (let i = 240; p[i] !== 255; i += 2 + p[i + 1]!)
    options.set(p[i]!, p.subarray(i + 2, i + 2 + p[i + 1]!));
  const ip = (b?: Buffer) => (b ? [...b].join('.') : undefined);
  return {
    udp,
    type: options.get(53)?.[0],
    yiaddr: [...p.subarray(16, 20)].join('.'),
    mask: ip(options.get(1)),
    dns: ip(options.get(6)),
    domain: options.get(15)?.toString(),
    host: options.get(12)?.toString(),
    router: options.get(3),
  };
}

function dnsQuery(from: string, fromIp: string, name: string, type: 'A' | 'AAAA' = 'A'): Buffer {
  const payload = dnsPacket.encode({
    type: 'query',
    id: 7,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name }],
  });
  return buildUdp({
    srcMac: from,
    dstMac: SERVER_MAC,
    srcIp: fromIp,
    dstIp: '10.5.0.1',
    srcPort: 40000,
    dstPort: 53,
    payload,
  });
}

describe('the lab switch process', () => {
  it('leases the static address by MAC with the lab DNS and domain, and no route', async () => {
    const { dir, file } = setup();
    await start(file);
    expect(statSync(join(dir, 'control.sock')).mode & 0o777).toBe(0o600);
    expect(Number(readFileSync(join(dir, 'switch.pid'), 'utf8'))).toBe(process.pid);
    const a = await nic(join(dir, 'nic1.sock'));
    a.send(dhcp(A, 1));
    await until(() => a.got.length === 1);
    const offer = readDhcp(a.got[0]!);
    expect(offer).toMatchObject({ type: 2, yiaddr: '10.5.0.10', mask: '255.255.255.0', dns: '10.5.0.1' });
    expect(offer).toMatchObject({ domain: 'web.internal', host: 'app', router: undefined });
    expect(offer.udp).toMatchObject({ srcIp: '10.5.0.1', dstIp: '255.255.255.255', dstPort: 68, dstMac: A });
    a.send(dhcp(A, 3, '10.5.0.10'));
    await until(() => a.got.length === 2);
    expect(readDhcp(a.got[1]!)).toMatchObject({ type: 5, yiaddr: '10.5.0.10' });
    // Asking for someone else's address is refused.
    a.send(dhcp(A, 3, '10.5.0.11'));
    await until(() => a.got.length === 3);
    expect(readDhcp(a.got[2]!)).toMatchObject({ type: 6, yiaddr: '0.0.0.0' });
  });

  it('gives an unknown MAC an address from the pool, the same one each time', async () => {
    const { dir, file } = setup();
    await start(file);
    const s = await nic(join(dir, 'nic1.sock'));
    s.send(dhcp(STRANGER, 1));
    s.send(dhcp(STRANGER, 1));
    await until(() => s.got.length === 2);
    expect(s.got.map((f) => readDhcp(f).yiaddr)).toEqual(['10.5.0.100', '10.5.0.100']);
    expect(readDhcp(s.got[0]!).host).toBeUndefined();
  });

  it('answers DNS for <vm>.<lab>.internal, NXDOMAIN inside the zone, REFUSED outside it', async () => {
    const { dir, file } = setup();
    await start(file);
    const a = await nic(join(dir, 'nic1.sock'));
    const ask = async (name: string, type: 'A' | 'AAAA' = 'A') => {
      const before = a.got.length;
      a.send(dnsQuery(A, '10.5.0.10', name, type));
      await until(() => a.got.length === before + 1);
      const udp = parseUdp(a.got[before]!)!;
      expect(udp).toMatchObject({ srcIp: '10.5.0.1', srcPort: 53, dstPort: 40000, dstIp: '10.5.0.10' });
      // dns-packet decodes the rcode, but its types do not declare it.
      const decoded = dnsPacket.decode(udp.payload);
      return {
        rcode: (decoded as unknown as { rcode: string }).rcode,
        answers: (decoded.answers ?? []).map((x) => (x as { data: unknown }).data),
      };
    };
    const db = await ask('DB.web.internal');
    expect(db.rcode).toBe('NOERROR');
    expect(db.answers).toEqual(['10.5.0.11']);
    expect((await ask('db.web.internal', 'AAAA')).answers).toEqual([]);
    expect((await ask('nope.web.internal')).rcode).toBe('NXDOMAIN');
    expect((await ask('example.com')).rcode).toBe('REFUSED');
  });

  it('answers ARP for its own address only, and ignores broken frames', async () => {
    const { dir, file } = setup();
    await start(file);
    const a = await nic(join(dir, 'nic1.sock'));
    const arp = (target: string) => {
      const f = Buffer.alloc(42);
      Buffer.alloc(6, 0xff).copy(f, 0);
      macToBytes(A).copy(f, 6);
      f.writeUInt16BE(0x0806, 12);
      f.writeUInt16BE(1, 14);
      f.writeUInt16BE(0x0800, 16);
      f[18] = 6;
      f[19] = 4;
      f.writeUInt16BE(1, 20);
      macToBytes(A).copy(f, 22);
      f.writeUInt32BE(ipToNumber('10.5.0.10'), 28);
      f.writeUInt32BE(ipToNumber(target), 38);
      return f;
    };
    a.send(arp('10.5.0.77'));
    // Truncated and lying headers: an IPv4 length past the frame, a UDP length past the packet.
    const bad = dhcp(A, 1);
    bad.writeUInt16BE(9000, 16);
    a.send(bad);
    const bad2 = dnsQuery(A, '10.5.0.10', 'db.web.internal');
    bad2.writeUInt16BE(4000, 38);
    a.send(bad2);
    a.send(
      buildUdp({
        srcMac: A,
        dstMac: SERVER_MAC,
        srcIp: '10.5.0.10',
        dstIp: '10.5.0.1',
        srcPort: 1,
        dstPort: 53,
        payload: Buffer.from('junk'),
      }),
    );
    a.send(arp('10.5.0.1'));
    await until(() => a.got.length === 1);
    const reply = parseArp(a.got[0]!)!;
    expect(reply).toMatchObject({
      op: 2,
      senderMac: SERVER_MAC,
      senderIp: '10.5.0.1',
      targetIp: '10.5.0.10',
    });
    expect(bytesToMac(a.got[0]!, 0)).toBe(A);
  });

  it('captures a segment to a pcap file, refuses to overwrite one, and reloads new segments', async () => {
    const { dir, file, config } = setup();
    const d = await start(file);
    const a = await nic(join(dir, 'nic1.sock'));
    const b = await nic(join(dir, 'nic2.sock'));
    const pcap = join(dir, 'lan.pcap');
    await d.handle({ op: 'capture', segment: 'lan', file: pcap });
    await expect(d.handle({ op: 'capture', segment: 'lan', file: pcap })).rejects.toThrow(/already/);
    a.send(dhcp(A, 1));
    await until(() => a.got.length === 1);
    b.send(Buffer.concat([macToBytes(A), macToBytes(B), Buffer.from([0x88, 0xb5]), Buffer.from('hello')]));
    await until(() => a.got.length === 2);
    expect(await d.handle({ op: 'capture-stop', segment: 'lan' })).toEqual({ frames: 3, full: false });
    const bytes = readFileSync(pcap);
    expect(bytes.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect(bytes.readUInt32LE(20)).toBe(1);
    // Records: the DISCOVER, the OFFER, the frame from b; each with its true length.
    const lengths: number[] = [];
    for (let at = 24; at < bytes.length; at += 16 + bytes.readUInt32LE(at + 8))
      lengths.push(bytes.readUInt32LE(at + 8));
    expect(lengths).toEqual([dhcp(A, 1).length, a.got[0]!.length, 19]);
    const other = join(dir, 'other.pcap');
    writeFileSync(other, 'mine');
    await expect(d.handle({ op: 'capture', segment: 'lan', file: other })).rejects.toThrow(/cannot write/);
    expect(readFileSync(other, 'utf8')).toBe('mine');

    const dbPort = join(dir, 'db-nic.sock');
    const db = { ...config.segments[0]!, name: 'db', ports: [dbPort] };
    writeFileSync(file, JSON.stringify({ ...config, segments: [...config.segments, db] }));
    const status = (await d.handle({ op: 'reload' })) as { segments: { name: string; ports: number }[] };
    expect(status.segments).toEqual([
      expect.objectContaining({ name: 'lan', ports: 2 }),
      expect.objectContaining({ name: 'db', ports: 0 }),
    ]);
    // The new segment connects to its NIC as soon as that listens.
    const c = await nic(dbPort);
    await until(() => d.status().segments[1]!.ports === 1);
    c.sock.destroy();
  });

  it('connects again when a NIC goes away and comes back (a VM restarted)', async () => {
    const { dir, file } = setup();
    const d = await start(file);
    const first = await nic(join(dir, 'nic1.sock'));
    await until(() => d.status().segments[0]!.ports === 1);
    first.sock.destroy();
    servers.splice(0).forEach((s) => s.close());
    await until(() => d.status().segments[0]!.ports === 0);
    const again = await nic(join(dir, 'nic1.sock'));
    again.send(dhcp(A, 1));
    await until(() => again.got.length === 1);
    expect(readDhcp(again.got[0]!).yiaddr).toBe('10.5.0.10');
  });

  it('keeps two labs with the same subnet apart', async () => {
    const one = setup();
    const two = setup({ lab: 'other', domain: 'other.internal' });
    await start(one.file);
    await start(two.file);
    const a = await nic(join(one.dir, 'nic1.sock'));
    const b = await nic(join(two.dir, 'nic1.sock'));
    a.send(
      Buffer.concat([
        Buffer.alloc(6, 0xff),
        macToBytes(A),
        Buffer.from([0x88, 0xb5]),
        Buffer.from('lab one'),
      ]),
    );
    b.send(dhcp(B, 1));
    await until(() => b.got.length === 1);
    expect(readDhcp(b.got[0]!).domain).toBe('other.internal');
    expect(a.got).toEqual([]);
  });
});
