// Just enough Ethernet, ARP, IPv4 and UDP to answer DHCP, DNS and ARP from the switch's own port.
// Written here rather than taken from a library: the frames are a few fixed headers, and the
// packet libraries for Node either need native capture code or are unmaintained. Every parse is
// bounded by the frame's length; anything malformed is ignored, never thrown into the switch.

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
export const PROTO_UDP = 17;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

export function macToBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

export function bytesToMac(b: Buffer, at = 0): string {
  return [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export interface UdpPacket {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export interface ArpPacket {
  op: number;
  senderMac: string;
  senderIp: string;
  targetIp: string;
}

/** The IPv4/UDP datagram in an Ethernet frame, or null for anything else (or anything broken). */
export function parseUdp(frame: Buffer): UdpPacket | null {
  if (frame.length < 14 + 20 + 8 || frame.readUInt16BE(12) !== ETH_IPV4) return null;
  const ip = 14;
  const version = frame[ip]! >> 4;
  const ihl = (frame[ip]! & 0x0f) * 4;
  if (version !== 4 || ihl < 20 || frame[ip + 9] !== PROTO_UDP) return null;
  // Fragments are not reassembled: DHCP and DNS queries always fit in one frame.
  if ((frame.readUInt16BE(ip + 6) & 0x3fff) !== 0) return null;
  const total = frame.readUInt16BE(ip + 2);
  if (total < ihl + 8 || ip + total > frame.length) return null;
  const udp = ip + ihl;
  const udpLen = frame.readUInt16BE(udp + 4);
  if (udpLen < 8 || udp + udpLen > ip + total) return null;
  return {
    dstMac: bytesToMac(frame, 0),
    srcMac: bytesToMac(frame, 6),
    srcIp: numberToIp(frame.readUInt32BE(ip + 12)),
    dstIp: numberToIp(frame.readUInt32BE(ip + 16)),
    srcPort: frame.readUInt16BE(udp),
    dstPort: frame.readUInt16BE(udp + 2),
    payload: Buffer.from(frame.subarray(udp + 8, udp + udpLen)),
  };
}

export function parseArp(frame: Buffer): ArpPacket | null {
  if (frame.length < 14 + 28 || frame.readUInt16BE(12) !== ETH_ARP) return null;
  const a = 14;
  // Ethernet hardware, IPv4 protocol, 6- and 4-byte addresses: nothing else is answered.
  if (frame.readUInt16BE(a) !== 1 || frame.readUInt16BE(a + 2) !== ETH_IPV4) return null;
  if (frame[a + 4] !== 6 || frame[a + 5] !== 4) return null;
  return {
    op: frame.readUInt16BE(a + 6),
    senderMac: bytesToMac(frame, a + 8),
    senderIp: numberToIp(frame.readUInt32BE(a + 14)),
    targetIp: numberToIp(frame.readUInt32BE(a + 24)),
  };
}

function checksum(buf: Buffer, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function buildUdp(p: UdpPacket): Buffer {
  const udpLen = 8 + p.payload.length;
  const frame = Buffer.alloc(14 + 20 + udpLen);
  macToBytes(p.dstMac).copy(frame, 0);
  macToBytes(p.srcMac).copy(frame, 6);
  frame.writeUInt16BE(ETH_IPV4, 12);
  const ip = 14;
  frame[ip] = 0x45;
  frame.writeUInt16BE(20 + udpLen, ip + 2);
  frame.writeUInt16BE(0x4000, ip + 6); // don't fragment
  frame[ip + 8] = 64;
  frame[ip + 9] = PROTO_UDP;
  frame.writeUInt32BE(ipToNumber(p.srcIp), ip + 12);
  frame.writeUInt32BE(ipToNumber(p.dstIp), ip + 16);
  frame.writeUInt16BE(checksum(frame.subarray(ip, ip + 20)), ip + 10);
  const udp = ip + 20;
  frame.writeUInt16BE(p.srcPort, udp);
  frame.writeUInt16BE(p.dstPort, udp + 2);
  frame.writeUInt16BE(udpLen, udp + 4);
  p.payload.copy(frame, udp + 8);
  // The UDP checksum covers a pseudo-header of addresses, protocol and length.
  const pseudo = Buffer.alloc(12);
  frame.copy(pseudo, 0, ip + 12, ip + 20);
  pseudo[9] = PROTO_UDP;
  pseudo.writeUInt16BE(udpLen, 10);
  const partial = ~checksum(pseudo) & 0xffff;
  const sum = checksum(frame.subarray(udp), partial) || 0xffff;
  frame.writeUInt16BE(sum, udp + 6);
  return frame;
}

/** An ARP reply saying that `ip` is at `mac`, to the asker. */
export function buildArpReply(mac: string, ip: string, to: ArpPacket): Buffer {
  const frame = Buffer.alloc(14 + 28);
  macToBytes(to.senderMac).copy(frame, 0);
  macToBytes(mac).copy(frame, 6);
  frame.writeUInt16BE(ETH_ARP, 12);
  const a = 14;
  frame.writeUInt16BE(1, a);
  frame.writeUInt16BE(ETH_IPV4, a + 2);
  frame[a + 4] = 6;
  frame[a + 5] = 4;
  frame.writeUInt16BE(2, a + 6);
  macToBytes(mac).copy(frame, a + 8);
  frame.writeUInt32BE(ipToNumber(ip), a + 14);
  macToBytes(to.senderMac).copy(frame, a + 18);
  frame.writeUInt32BE(ipToNumber(to.senderIp), a + 24);
  return frame;
}
