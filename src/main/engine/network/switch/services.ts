// The switch's own port on a segment: answers ARP for its address, DHCP and DNS, and feeds a
// capture when one runs. The daemon hands it every frame from the segment's tap and injects the
// answer after the current frame has been forwarded (never re-entering the segment from its tap).
import { DhcpServer, type DhcpSettings } from './dhcp';
import { answerDns } from './dns';
import { buildArpReply, buildUdp, parseArp, parseUdp } from './packets';
import type { PcapWriter } from './pcap';

export interface ServiceSettings extends DhcpSettings {
  serverMac: string;
  dhcp: boolean;
}

export class SegmentServices {
  readonly dhcp: DhcpServer;
  capture: PcapWriter | null = null;
  answered = { arp: 0, dhcp: 0, dns: 0 };

  constructor(
    private readonly s: ServiceSettings,
    previous?: SegmentServices,
  ) {
    this.dhcp = new DhcpServer(s, previous?.dhcp.leased);
    if (previous) this.answered = previous.answered;
  }

  answer(frame: Buffer): Buffer | null {
    const arp = parseArp(frame);
    if (arp) {
      if (arp.op !== 1 || arp.targetIp !== this.s.serverIp) return null;
      this.answered.arp++;
      return buildArpReply(this.s.serverMac, this.s.serverIp, arp);
    }
    const udp = parseUdp(frame);
    if (!udp) return null;
    if (this.s.dhcp && udp.dstPort === 67 && udp.srcPort === 68) {
      const out = this.dhcp.handle(udp.payload);
      if (!out) return null;
      this.answered.dhcp++;
      return buildUdp({
        srcMac: this.s.serverMac,
        dstMac: udp.srcMac,
        srcIp: this.s.serverIp,
        dstIp: out.to,
        srcPort: 67,
        dstPort: 68,
        payload: out.reply,
      });
    }
    if (udp.dstPort === 53 && udp.dstIp === this.s.serverIp) {
      const out = answerDns(udp.payload, this.s.domain, this.dhcp.hosts());
      if (!out) return null;
      this.answered.dns++;
      return buildUdp({
        srcMac: this.s.serverMac,
        dstMac: udp.srcMac,
        srcIp: this.s.serverIp,
        dstIp: udp.srcIp,
        srcPort: 53,
        dstPort: udp.srcPort,
        payload: out,
      });
    }
    return null;
  }
}
