// From a planned lab VM to Hangar's own terms: the VM's name, its NICs (the user-mode NIC with
// the forwards first, then one lab NIC per network), the switch's config with a static lease per
// lab NIC, and a content hash per VM that tells `plan` whether the VM must change.
import { createHash, randomBytes } from 'node:crypto';
import type { ExpandedLab, PlannedVm } from '../../../shared/lab/expand';
import { ipToInt, intToIp } from '../../../shared/lab/expand';
import type { Nic, VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import type { SwitchConfig } from '../network/switch/config';

/** Lab VMs are named like docker compose's containers: `<lab>-<vm>`. */
export const vmNameOf = (lab: string, vm: string): string => `${lab}-${vm}`;

export function hashOf(vm: PlannedVm): string {
  const { name, source, cpus, memoryMiB, disks, nics, forwards, user, userData } = vm;
  const what = { name, source, cpus, memoryMiB, disks, nics, forwards, user, userData };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16);
}

/** Per network, the multicast group a lab without a switch uses instead (see LabState.fallback). */
export type McastGroups = Record<string, { group: string; port: number }>;

export function labNics(lab: string, vm: PlannedVm, mcast?: McastGroups): Nic[] {
  return vm.nics.map((n, i) => ({
    id: `lab${i}`,
    model: 'virtio',
    mac: n.mac,
    mode: 'lab',
    portForwards: [],
    segment: { lab, name: n.network, ...(mcast?.[n.network] ? { mcast: mcast[n.network] } : {}) },
  }));
}

/** A random group and port per network, for a lab whose switch cannot run. */
export function mcastGroups(lab: ExpandedLab, known: McastGroups = {}): McastGroups {
  const out: McastGroups = {};
  for (const net of lab.networks) {
    const r = randomBytes(5);
    // 239.128-254.x.y: organisation-local scope, away from the well-known 239.255 groups.
    out[net.name] = known[net.name] ?? {
      group: `239.${128 + (r[0]! % 127)}.${r[1]}.${r[2]}`,
      port: 20_000 + (r.readUInt16BE(3) % 40_000),
    };
  }
  return out;
}

/**
 * The config with the lab's CPUs, memory, forwards and lab NICs applied. A borrowed VM (`vm:` in
 * the file) keeps its size and its own NICs and forwards (`own`, as they were before the lab);
 * the lab's forwards are added beside them.
 */
export function withLabDevices(
  config: VmConfig,
  lab: string,
  vm: PlannedVm,
  own?: Nic[],
  mcast?: McastGroups,
): VmConfig {
  const forwards = vm.forwards.map((f) => ({
    protocol: f.proto,
    hostAddress: '127.0.0.1' as const,
    hostPort: f.host,
    guestPort: f.guest,
  }));
  if (own) {
    const mine = own.filter((n) => !(n.mode === 'lab' && n.segment?.lab === lab));
    const user = mine.find((n) => n.mode === 'user');
    if (forwards.length && !user)
      throw new HangarError(
        'CONFLICT',
        `VM "${config.name}" has no user-mode NIC for the lab's forwards; add one (hangar edit) or drop "forwards".`,
      );
    const clash = forwards.find((f) =>
      user?.portForwards.some((p) => p.hostPort === f.hostPort && p.protocol === f.protocol),
    );
    if (clash)
      throw new HangarError(
        'CONFLICT',
        `VM "${config.name}" forwards host port ${clash.hostPort} itself; pick another in the lab file.`,
      );
    const nics = mine.map((n) => (n === user ? { ...n, portForwards: [...n.portForwards, ...forwards] } : n));
    const added = labNics(lab, vm, mcast);
    const same = added.find((a) => nics.some((n) => n.id === a.id));
    if (same)
      throw new HangarError(
        'CONFLICT',
        `VM "${config.name}" has a NIC with the id "${same.id}" the lab needs for its own; remove it (hangar edit).`,
      );
    return { ...config, nics: [...nics, ...added] };
  }
  const user = config.nics.find((n) => n.mode === 'user');
  // The cloud image's ssh forward stays (hangar ssh uses it), unless the lab file uses its host
  // port; every other forward is the lab file's, so one removed from the file goes.
  const kept = (user?.portForwards ?? []).filter(
    (p) =>
      p.hostPort === config.cloudInit?.sshPort &&
      p.guestPort === 22 &&
      !forwards.some((f) => f.hostPort === p.hostPort && f.protocol === p.protocol),
  );
  const nics: Nic[] = user ? [{ ...user, portForwards: [...kept, ...forwards] }] : [];
  return { ...config, cpus: vm.cpus, memoryMiB: vm.memoryMiB, nics: [...nics, ...labNics(lab, vm, mcast)] };
}

/**
 * netplan v2 for cloud-init: DHCP on every NIC, matched by MAC. Lab NICs never take the default
 * route (the switch offers none; this says so to clients that would fall back to the server).
 */
export function networkConfigOf(config: VmConfig, statics: Map<string, string> = new Map()): string {
  const lines = ['version: 2', 'ethernets:'];
  for (const n of config.nics) {
    lines.push(`  ${n.id}:`, `    match: { macaddress: "${n.mac}" }`);
    // A lab NIC on a multicast fallback has no DHCP server: its lab address is set here.
    const fixed = n.segment?.mcast ? statics.get(n.mac) : undefined;
    if (fixed) lines.push(`    addresses: [${fixed}]`);
    else lines.push('    dhcp4: true');
    if (n.mode === 'lab' && !fixed) lines.push('    dhcp4-overrides: { use-routes: false }');
  }
  return `${lines.join('\n')}\n`;
}

/** The switch's MAC on a segment: locally administered, from the lab and segment names. */
function switchMac(lab: string, segment: string): string {
  const h = createHash('sha256').update(`hangar-switch\0${lab}\0${segment}`).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * The switch's config. `socketOf` says where QEMU listens for a VM's lab NIC (by the NIC's index
 * among the VM's lab NICs); null for a VM that has no VM yet.
 */
export function switchConfigOf(
  lab: ExpandedLab,
  runDir: string,
  socketOf: (vm: PlannedVm, labNic: number) => string | null,
): SwitchConfig {
  return {
    lab: lab.name,
    domain: `${lab.name}.internal`,
    runDir,
    segments: lab.networks.map((net) => {
      const base = ipToInt(net.switchIp) - 1;
      const size = 2 ** (32 - net.prefix);
      // The dynamic pool: the upper half of the subnet, for NICs the lab file does not name.
      const poolStart = intToIp(base + Math.max(Math.floor(size / 2), 2));
      return {
        name: net.name,
        serverIp: net.switchIp,
        serverMac: switchMac(lab.name, net.name),
        prefix: net.prefix,
        dhcp: net.dhcp,
        poolStart,
        leases: lab.vms.flatMap((vm) =>
          vm.nics.filter((n) => n.network === net.name).map((n) => ({ mac: n.mac, ip: n.ip, host: vm.name })),
        ),
        ports: lab.vms.flatMap((vm) =>
          vm.nics
            .flatMap((n, i) => (n.network === net.name ? [socketOf(vm, i)] : []))
            .filter((p) => p !== null),
        ),
      };
    }),
  };
}

/** Dependency levels: every VM comes after the VMs it depends on (expand.ts refused cycles). */
export function levelsOf(vms: PlannedVm[]): PlannedVm[][] {
  const levels: PlannedVm[][] = [];
  const placed = new Set<string>();
  let left = [...vms];
  while (left.length) {
    const level = left.filter((v) =>
      v.dependsOn.every((d) => placed.has(d) || !vms.some((x) => x.name === d)),
    );
    if (!level.length) throw new Error(`dependency cycle among ${left.map((v) => v.name).join(', ')}`);
    levels.push(level);
    for (const v of level) placed.add(v.name);
    left = left.filter((v) => !placed.has(v.name));
  }
  return levels;
}
