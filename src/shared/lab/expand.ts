// From a lab file that passed the schema to the VMs `lab up` would make: matrix entries expanded,
// references checked (networks, dependsOn, one source each), and every NIC given a MAC and an
// address that are the same on every run (derived from the lab's and the VM's names, never
// random), so a lab's DHCP leases and DNS names do not move between `up`s.
import { SOURCE_KEYS, type LabFile, type LabVm, type SourceKey } from './schema';

export interface LabProblem {
  /** Where in the file: keys and indexes from the top. */
  path: (string | number)[];
  message: string;
}

export interface PlannedNic {
  network: string;
  ip: string;
  mac: string;
}

export interface PlannedVm {
  /** The VM's name in the lab (`<vm>` or `<vm>-<matrix key>`); its DNS name is `<name>.<lab>.internal`. */
  name: string;
  /** The key in the file's `vms` it comes from. */
  entry: string;
  matrixKey: string | null;
  source: { kind: SourceKey; value: string };
  cpus: number;
  memoryMiB: number;
  disks: { sizeMiB: number }[];
  nics: PlannedNic[];
  forwards: { host: number; guest: number; proto: 'tcp' | 'udp' }[];
  user: string | null;
  userData: string | null;
  provision: { run: string; via: 'agent' | 'ssh' }[];
  ready: string[];
  /** Expanded names of the VMs that must be ready first. */
  dependsOn: string[];
}

export interface ExpandedLab {
  name: string;
  baseline: 'on-ready' | 'none';
  networks: { name: string; subnet: string; prefix: number; dhcp: boolean; switchIp: string }[];
  vms: PlannedVm[];
}

const UNITS: Record<string, number> = { M: 1, G: 1024, T: 1024 * 1024 };
export const sizeMiB = (s: string): number => Number(s.slice(0, -1)) * UNITS[s.slice(-1)]!;

export const ipToInt = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0) >>> 0;
export const intToIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** The first address is the network's, the last its broadcast; the switch answers on the next one. */
export function subnetOf(cidr: string): { base: number; size: number; prefix: number } {
  const [ip, bits] = cidr.split('/');
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  return { base: ipToInt(ip!), size, prefix };
}

/**
 * FNV-1a (32 bits): shared code runs in the renderer too, without Node's crypto, and a MAC needs
 * spreading, not secrecy; a collision inside a lab is resolved by the salt in macFor.
 */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

/** 52:54:00 (QEMU's prefix) and three bytes of a hash of the lab, the VM and the NIC. */
function macFor(lab: string, vm: string, nic: number, salt: number): string {
  const h = fnv1a(`hangar-lab\0${lab}\0${vm}\0${nic}\0${salt}`);
  return ['52', '54', '00', ...[16, 8, 0].map((s) => ((h >>> s) & 255).toString(16).padStart(2, '0'))].join(
    ':',
  );
}

function sourcesOf(v: Partial<Record<SourceKey, string>>): SourceKey[] {
  return SOURCE_KEYS.filter((k) => v[k] !== undefined);
}

const DEFAULT_CPUS = 1;
const DEFAULT_MEMORY_MIB = 1024;

export function expandLab(lab: LabFile): { lab: ExpandedLab; problems: LabProblem[] } {
  const problems: LabProblem[] = [];
  const problem = (path: (string | number)[], message: string) => problems.push({ path, message });

  const networks = Object.entries(lab.networks).map(([name, n]) => {
    const s = subnetOf(n.subnet);
    if (s.base % s.size !== 0)
      problem(
        ['networks', name, 'subnet'],
        `${n.subnet} has host bits set; the network is ${intToIp(s.base - (s.base % s.size))}/${s.prefix}.`,
      );
    return { name, subnet: n.subnet, prefix: s.prefix, dhcp: n.dhcp, switchIp: intToIp(s.base + 1), s };
  });
  for (let i = 0; i < networks.length; i++)
    for (let j = 0; j < i; j++) {
      const a = networks[i]!.s;
      const b = networks[j]!.s;
      if (a.base < b.base + b.size && b.base < a.base + a.size)
        problem(
          ['networks', networks[i]!.name, 'subnet'],
          `overlaps network "${networks[j]!.name}" (${networks[j]!.subnet}).`,
        );
    }
  const netByName = new Map(networks.map((n) => [n.name, n]));

  // Matrix entries first: every other check speaks of expanded VMs.
  const expanded: { entry: string; key: string | null; v: LabVm; name: string }[] = [];
  for (const [entry, v] of Object.entries(lab.vms)) {
    const base = sourcesOf(v);
    if (base.length > 1)
      problem(
        ['vms', entry],
        `gives ${base.join(' and ')}; a VM comes from exactly one of image, template, iso, vm.`,
      );
    if (!v.matrix) {
      if (base.length === 0)
        problem(['vms', entry], 'says where the VM comes from with none of image, template, iso or vm.');
      expanded.push({ entry, key: null, v, name: entry });
      continue;
    }
    const keys = Object.keys(v.matrix);
    if (keys.length === 0)
      problem(['vms', entry, 'matrix'], 'is empty; list at least one entry or remove it.');
    if (v.nics?.some((n) => n.ip))
      problem(
        ['vms', entry, 'nics'],
        'fixes an IP on a VM with a matrix: every entry would get the same one.',
      );
    if (v.forwards?.length)
      problem(
        ['vms', entry, 'forwards'],
        'forwards host ports on a VM with a matrix: every entry would need the same ones.',
      );
    for (const key of keys) {
      const m = v.matrix[key]!;
      const own = sourcesOf(m);
      if (own.length > 1) problem(['vms', entry, 'matrix', key], `gives ${own.join(' and ')}; give one.`);
      if (own.length === 0 && base.length === 0)
        problem(['vms', entry, 'matrix', key], 'has no image, template, iso or vm, and neither has its VM.');
      const { matrix: _matrix, ...rest } = v;
      const merged: LabVm = own.length
        ? { ...rest, image: undefined, template: undefined, iso: undefined, vm: undefined, ...m }
        : { ...rest, ...m };
      expanded.push({ entry, key, v: merged, name: `${entry}-${key}` });
    }
  }

  const names = new Map<string, string>();
  for (const e of expanded) {
    const other = names.get(e.name);
    if (other !== undefined)
      problem(
        ['vms', e.entry, ...(e.key ? ['matrix', e.key] : [])],
        `makes a VM named "${e.name}", as "${other}" does already.`,
      );
    else names.set(e.name, e.key ? `${e.entry} (matrix ${e.key})` : e.entry);
    if (e.name.length > 63)
      problem(['vms', e.entry, 'matrix', e.key ?? ''], `"${e.name}" is longer than a DNS label (63).`);
  }

  // A VM the lab borrows (`vm:`) is used as it is: the lab adds its networks and forwards and
  // gives them back at destroy; its size and disks stay the user's, and it can serve one entry.
  const borrowed = new Map<string, string>();
  for (const e of expanded) {
    if (!e.v.vm) continue;
    const at = ['vms', e.entry, ...(e.key ? ['matrix', e.key] : [])];
    const own = (['cpus', 'memory', 'disks', 'user', 'userData'] as const).filter(
      (k) => e.v[k] !== undefined,
    );
    if (own.length)
      problem(
        at,
        `sets ${own.join(', ')} on an existing VM; it is used as it is (change it with hangar edit).`,
      );
    const other = borrowed.get(e.v.vm);
    if (other) problem(at, `uses VM "${e.v.vm}", as ${other} does already; a VM is in one place at a time.`);
    else borrowed.set(e.v.vm, e.name);
  }

  // dependsOn names entries of the file; an entry with a matrix stands for all its VMs.
  const byEntry = new Map<string, string[]>();
  for (const e of expanded) byEntry.set(e.entry, [...(byEntry.get(e.entry) ?? []), e.name]);
  const deps = new Map<string, string[]>();
  for (const [entry, v] of Object.entries(lab.vms)) {
    const out: string[] = [];
    (v.dependsOn ?? []).forEach((d, i) => {
      if (d === entry) problem(['vms', entry, 'dependsOn', i], 'a VM cannot wait for itself.');
      else if (!byEntry.has(d)) problem(['vms', entry, 'dependsOn', i], `no VM "${d}" in this lab.`);
      else out.push(d);
    });
    deps.set(entry, out);
  }
  const cycle = findCycle(deps);
  if (cycle) problem(['vms', cycle[0]!, 'dependsOn'], `waits in a circle: ${cycle.join(' → ')}.`);

  // Addresses: fixed ones first (checked), then the rest in name order from .10 up.
  const used = new Map<string, Map<number, string>>();
  for (const n of networks) used.set(n.name, new Map([[n.s.base + 1, 'the lab switch']]));
  const hostPorts = new Map<string, string>();
  const planned: PlannedVm[] = [];
  const macs = new Set<string>();
  for (const e of expanded) {
    const v = e.v;
    const kind = sourcesOf(v)[0] ?? 'image';
    const nics: PlannedNic[] = [];
    (v.nics ?? []).forEach((nic, i) => {
      const at = ['vms', e.entry, 'nics', i];
      const net = netByName.get(nic.network);
      if (!net) {
        problem([...at, 'network'], `no network "${nic.network}" in this lab's networks.`);
        return;
      }
      let salt = 0;
      let mac = macFor(lab.name, e.name, i, salt);
      while (macs.has(mac)) mac = macFor(lab.name, e.name, i, ++salt);
      macs.add(mac);
      let ip = '';
      if (nic.ip) {
        const n = ipToInt(nic.ip);
        const taken = used.get(net.name)!;
        if (n <= net.s.base || n >= net.s.base + net.s.size - 1)
          problem([...at, 'ip'], `${nic.ip} is not a host address of ${net.subnet}.`);
        else if (taken.has(n)) problem([...at, 'ip'], `${nic.ip} is taken by ${taken.get(n)}.`);
        else taken.set(n, e.name);
        ip = nic.ip;
      }
      nics.push({ network: net.name, ip, mac });
    });
    const forwards = (v.forwards ?? []).map((f, i) => {
      const [ports, proto = 'tcp'] = f.split('/');
      const [host, guest] = ports!.split(':').map(Number);
      const key = `${host}/${proto}`;
      const other = hostPorts.get(key);
      if (other)
        problem(['vms', e.entry, 'forwards', i], `host port ${key} is forwarded by ${other} already.`);
      else hostPorts.set(key, e.name);
      return { host: host!, guest: guest!, proto: proto as 'tcp' | 'udp' };
    });
    planned.push({
      name: e.name,
      entry: e.entry,
      matrixKey: e.key,
      source: { kind, value: v[kind] ?? '' },
      cpus: v.cpus ?? DEFAULT_CPUS,
      memoryMiB: v.memory ? sizeMiB(v.memory) : DEFAULT_MEMORY_MIB,
      disks: (v.disks ?? []).map((d) => ({ sizeMiB: sizeMiB(d.size) })),
      nics,
      forwards,
      user: v.user ?? null,
      userData: v.userData ?? null,
      provision: (v.provision ?? []).map((p) =>
        typeof p === 'string' ? { run: p, via: 'agent' as const } : p,
      ),
      ready: v.ready ?? [],
      dependsOn: (deps.get(e.entry) ?? []).flatMap((d) => byEntry.get(d) ?? []),
    });
  }
  for (const net of networks) {
    const taken = used.get(net.name)!;
    let next = net.s.base + 10;
    const want = planned
      .flatMap((vm) => vm.nics.filter((n) => n.network === net.name && !n.ip).map((n) => ({ vm, n })))
      .sort((a, b) => (a.vm.name < b.vm.name ? -1 : a.vm.name > b.vm.name ? 1 : 0));
    for (const { vm, n } of want) {
      while (taken.has(next)) next++;
      if (next >= net.s.base + net.s.size - 1) {
        problem(['networks', net.name, 'subnet'], `${net.subnet} has no free address left for ${vm.name}.`);
        break;
      }
      taken.set(next, vm.name);
      n.ip = intToIp(next);
    }
  }

  return {
    lab: {
      name: lab.name,
      baseline: lab.baseline,
      networks: networks.map(({ s: _s, ...n }) => n),
      vms: planned,
    },
    problems,
  };
}

/** A circle in dependsOn, as the names along it (first repeated at the end), or null. */
function findCycle(deps: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'done') return null;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of [...deps.keys()].sort()) {
    const c = visit(n);
    if (c) return c;
  }
  return null;
}
