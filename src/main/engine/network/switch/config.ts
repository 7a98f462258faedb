// What the lab switch process serves, written by the engine as switch.json in the lab's folder.
// The switch re-reads it on `reload`, so leases and segments follow the lab file without a restart.
import { z } from 'zod';
import { MacAddress, NetName } from '../../../../shared/vm';

const Ip = z.ipv4();

export const SwitchSegment = z.object({
  name: NetName,
  serverIp: Ip,
  serverMac: MacAddress,
  prefix: z.number().int().min(8).max(30),
  dhcp: z.boolean(),
  poolStart: Ip,
  leases: z.array(z.object({ mac: MacAddress, ip: Ip, host: NetName })).max(1000),
  /** The sockets QEMU listens on for this segment's NICs (one per VM NIC); the switch connects. */
  ports: z.array(z.string().startsWith('/').max(107)).max(1000),
});
export type SwitchSegment = z.infer<typeof SwitchSegment>;

export const SwitchConfig = z.object({
  lab: NetName,
  /** The DNS zone and DHCP search domain: <lab>.internal. */
  domain: z.string().max(100),
  /** Private runtime folder: <segment>.sock, control.sock, switch.pid. */
  runDir: z.string().startsWith('/'),
  segments: z.array(SwitchSegment).max(64),
});
export type SwitchConfig = z.infer<typeof SwitchConfig>;

export type ControlRequest =
  | { op: 'status' }
  | { op: 'reload' }
  | { op: 'capture'; segment: string; file: string }
  | { op: 'capture-stop'; segment: string }
  | { op: 'quit' };

export interface SegmentStatus {
  name: string;
  ports: number;
  dropped: number;
  answered: { arp: number; dhcp: number; dns: number };
  capture: { frames: number; full: boolean } | null;
}

export interface SwitchStatus {
  pid: number;
  lab: string;
  segments: SegmentStatus[];
}
