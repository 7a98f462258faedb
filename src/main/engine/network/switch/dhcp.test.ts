import { describe, expect, it } from 'vitest';
import { DhcpServer } from './dhcp';
import { answerDns } from './dns';
import { ipToNumber, numberToIp, macToBytes } from './packets';
import dnsPacket from 'dns-packet';

function discover(mac: string): Buffer {
  const m = Buffer.alloc(244);
  m[0] = 1;
  m[1] = 1;
  m[2] = 6;
  macToBytes(mac).copy(m, 28);
  m.writeUInt32BE(0x63825363, 236);
  Buffer.from([53, 1, 1, 255]).copy(m, 240);
  return m;
}

describe('the switch DHCP pool', () => {
  it('never hands out the subnet broadcast or network address, whatever the prefix', () => {
    const server = new DhcpServer({
      serverIp: '10.0.0.1',
      prefix: 25,
      domain: 'x.internal',
      poolStart: '10.0.0.64',
      leases: [],
    });
    const given: string[] = [];
    for (let i = 0; i < 100; i++) {
      const mac = `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`;
      const r = server.handle(discover(mac));
      if (r) given.push(numberToIp(r.reply.readUInt32BE(16)));
    }
    expect(given.length).toBe(63); // .64 to .126
    expect(given).not.toContain('10.0.0.127');
    expect(given.every((ip) => ipToNumber(ip) < ipToNumber('10.0.0.127'))).toBe(true);
  });

  it('keeps dynamic leases across a reload (a new server over the old leases)', () => {
    const settings = {
      serverIp: '10.0.0.1',
      prefix: 24,
      domain: 'x.internal',
      poolStart: '10.0.0.100',
      leases: [],
    };
    const first = new DhcpServer(settings);
    first.handle(discover('52:54:00:00:00:01'));
    const second = new DhcpServer(settings, first.leased);
    const r = second.handle(discover('52:54:00:00:00:02'))!;
    expect(numberToIp(r.reply.readUInt32BE(16))).toBe('10.0.0.101');
  });
});

describe('the switch DNS', () => {
  const hosts = new Map([['db', '10.0.0.5']]);
  const ask = (name: string, opcode = 0) =>
    answerDns(
      dnsPacket.encode({ type: 'query', id: 1, flags: opcode << 11, questions: [{ type: 'A', name }] }),
      'lab.internal',
      hosts,
    );
  it('answers the zone itself with no data rather than "no such name"', () => {
    const r = dnsPacket.decode(ask('lab.internal')!) as unknown as { rcode: string; answers: unknown[] };
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers).toEqual([]);
  });
  it('does not answer anything but a standard query', () => {
    expect(ask('db.lab.internal', 4)).toBeNull(); // NOTIFY
    expect(ask('db.lab.internal', 5)).toBeNull(); // UPDATE
    expect(ask('db.lab.internal')).not.toBeNull();
  });
});
