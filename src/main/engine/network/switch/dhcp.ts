// The switch's DHCP server (RFC 2131, the subset guests use): static leases from the lab file,
// a small dynamic pool for anything else, the lab's DNS server and search domain. No router
// option: a segment is private, and the default route stays on the VM's own user-mode NIC.
// Hand-written for the same reason as packets.ts; a malformed message is ignored.
import { ipToNumber, numberToIp } from './packets';

const MAGIC = 0x63825363;
const OP_REPLY = 2;
const DISCOVER = 1;
const OFFER = 2;
const REQUEST = 3;
const ACK = 5;
const NAK = 6;
const INFORM = 8;
const LEASE_SECONDS = 86400;
const POOL_SIZE = 100;

export interface DhcpSettings {
  serverIp: string;
  prefix: number;
  /** Search domain and DNS zone, e.g. web.internal. */
  domain: string;
  /** First address of the dynamic pool (static leases start lower). */
  poolStart: string;
  leases: { mac: string; ip: string; host: string }[];
}

interface Request {
  xid: number;
  flags: number;
  ciaddr: number;
  chaddr: Buffer;
  mac: string;
  type: number;
  requested: number | null;
  /** Option 61 etc. are not used: leases are keyed by MAC, as the lab file names them. */
}

function parse(msg: Buffer): Request | null {
  if (msg.length < 240 || msg[0] !== 1 || msg[1] !== 1 || msg[2] !== 6) return null;
  if (msg.readUInt32BE(236) !== MAGIC) return null;
  let type = 0;
  let requested: number | null = null;
  for (let i = 240; i < msg.length;) {
    const code = msg[i]!;
    if (code === 255) break;
    if (code === 0) {
      i++;
      continue;
    }
    if (i + 1 >= msg.length) return null;
    const len = msg[i + 1]!;
    const body = i + 2;
    if (body + len > msg.length) return null;
    if (code === 53 && len === 1) type = msg[body]!;
    if (code === 50 && len === 4) requested = msg.readUInt32BE(body);
    i = body + len;
  }
  if (!type) return null;
  const chaddr = Buffer.from(msg.subarray(28, 44));
  const mac = [...chaddr.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
  return {
    xid: msg.readUInt32BE(4),
    flags: msg.readUInt16BE(10),
    ciaddr: msg.readUInt32BE(12),
    chaddr,
    mac,
    type,
    requested,
  };
}

function option(code: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([code, value.length]), value]);
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

export class DhcpServer {
  private readonly byMac: Map<string, { ip: number; host: string }>;
  private readonly server: number;
  private readonly mask: number;

  /** Dynamic leases already given (kept across a reload: guests hold them for a day). */
  constructor(
    private readonly s: DhcpSettings,
    private readonly dynamic = new Map<string, number>(),
  ) {
    this.byMac = new Map(s.leases.map((l) => [l.mac, { ip: ipToNumber(l.ip), host: l.host }]));
    this.server = ipToNumber(s.serverIp);
    this.mask = s.prefix === 0 ? 0 : (0xffffffff << (32 - s.prefix)) >>> 0;
  }

  /** The address a MAC holds or would get; null when the pool is full. */
  addressFor(mac: string): number | null {
    const fixed = this.byMac.get(mac);
    if (fixed) return fixed.ip;
    const had = this.dynamic.get(mac);
    if (had !== undefined) return had;
    const used = new Set([...this.byMac.values()].map((l) => l.ip).concat([...this.dynamic.values()]));
    const start = ipToNumber(this.s.poolStart);
    const network = (this.server & this.mask) >>> 0;
    const broadcast = (network | ~this.mask) >>> 0;
    for (let ip = start; ip < start + POOL_SIZE; ip++) {
      const inSubnet = (ip & this.mask) >>> 0 === network && ip !== network && ip !== broadcast;
      if (!used.has(ip) && ip !== this.server && inSubnet) {
        this.dynamic.set(mac, ip);
        return ip;
      }
    }
    return null;
  }

  /** The dynamic leases, for the server that replaces this one on a reload. */
  get leased(): Map<string, number> {
    return this.dynamic;
  }

  /** The names the DNS server answers: static leases' hosts. */
  hosts(): Map<string, string> {
    return new Map([...this.byMac.values()].map((l) => [l.host, numberToIp(l.ip)]));
  }

  /** The reply to a client message, or null when there is nothing to say. */
  handle(msg: Buffer): { reply: Buffer; to: string } | null {
    const req = parse(msg);
    if (!req) return null;
    let type: number;
    let yiaddr = 0;
    if (req.type === DISCOVER) {
      const ip = this.addressFor(req.mac);
      if (ip === null) return null;
      type = OFFER;
      yiaddr = ip;
    } else if (req.type === REQUEST) {
      const ip = this.addressFor(req.mac);
      const wanted = req.requested ?? req.ciaddr;
      if (ip === null) return null;
      type = wanted === ip ? ACK : NAK;
      yiaddr = type === ACK ? ip : 0;
    } else if (req.type === INFORM) {
      type = ACK;
    } else {
      return null; // RELEASE, DECLINE: static leases need no bookkeeping
    }
    const head = Buffer.alloc(240);
    head[0] = OP_REPLY;
    head[1] = 1;
    head[2] = 6;
    head.writeUInt32BE(req.xid, 4);
    head.writeUInt16BE(req.flags, 10);
    head.writeUInt32BE(req.type === INFORM ? req.ciaddr : 0, 12);
    head.writeUInt32BE(yiaddr, 16);
    head.writeUInt32BE(this.server, 20);
    req.chaddr.copy(head, 28);
    head.writeUInt32BE(MAGIC, 236);
    const opts = [option(53, Buffer.from([type])), option(54, u32(this.server))];
    if (type !== NAK) {
      opts.push(option(1, u32(this.mask)), option(6, u32(this.server)));
      opts.push(option(15, Buffer.from(this.s.domain)));
      if (req.type !== INFORM) opts.push(option(51, u32(LEASE_SECONDS)));
      const host = this.byMac.get(req.mac)?.host;
      if (host) opts.push(option(12, Buffer.from(host)));
    }
    const reply = Buffer.concat([head, ...opts, Buffer.from([255])]);
    // A client without an address yet cannot take a unicast IP packet; broadcast reaches it.
    return { reply, to: req.type === INFORM && req.ciaddr ? numberToIp(req.ciaddr) : '255.255.255.255' };
  }
}
