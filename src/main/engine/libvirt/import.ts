// A libvirt domain XML (a file, or a libvirt's dumpxml) read into a Hangar VM config, for the
// documented subset (docs/libvirt.md). The XML is untrusted: parsed with bounds and no entities
// (xml.ts), every host path through the host-path policy, every value through the VM schema.
// Whatever is not carried over is listed in `dropped`.
import type { Cdrom, Disk, Firmware, Nic, OsType, VmConfig } from '../../../shared/vm';
import { CpuModel, MachineType, OsType as OsTypeSchema, VM_SCHEMA_VERSION } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { newVmId, parseConfig } from '../config/store';
import { checkHostPath, type PathPolicy } from '../policy/paths';
import { HANGAR_NS, GUEST_AGENT_CHANNEL } from './export';
import {
  readCdrom,
  readDisk,
  readNic,
  type Booted,
  type DeviceContext,
  type DiskCopy,
} from './import-devices';
import { attr, childNames, list, one, parseUntrustedXml, text, type XNode } from './xml';

export type { DiskCopy } from './import-devices';

export interface ImportOptions {
  policy: PathPolicy;
  /** Copy the disks into the new VM (true) or use them where they are (false, the default). */
  copyDisks?: boolean;
  /** Accept disks that are host block devices (type='block'); refused unless asked for. */
  blockDevices?: boolean;
  /** For tests. */
  id?: string;
  now?: Date;
}

export interface ImportPlan {
  config: VmConfig;
  /** Everything in the XML that the config does not carry, one sentence each. */
  dropped: string[];
  /** Disks to copy into the VM's directory before it is published (copyDisks). */
  copies: DiskCopy[];
}

const UNITS: Record<string, number> = {
  b: 1,
  bytes: 1,
  kb: 1e3,
  k: 1024,
  kib: 1024,
  mb: 1e6,
  m: 2 ** 20,
  mib: 2 ** 20,
  gb: 1e9,
  g: 2 ** 30,
  gib: 2 ** 30,
  tb: 1e12,
  t: 2 ** 40,
  tib: 2 ** 40,
};

export function memoryMiB(node: XNode | undefined): number {
  const unit = (attr(node, 'unit') ?? 'KiB').toLowerCase();
  const value = Number(text(node));
  const mult = UNITS[unit];
  if (!mult || !Number.isFinite(value) || value <= 0)
    throw new HangarError('INVALID_INPUT', `The domain's memory (${text(node)} ${unit}) is not a size.`);
  return Math.floor((value * mult) / 2 ** 20);
}

/** Elements Hangar reads or always provides itself; everything else at these levels is listed. */
const TOP_HANDLED = new Set([
  'name',
  'uuid',
  'title',
  'description',
  'metadata',
  'memory',
  'currentMemory',
  'vcpu',
  'os',
  'features',
  'cpu',
  'clock',
  'on_poweroff',
  'on_reboot',
  'on_crash',
  'pm',
  'devices',
  'resource',
  'seclabel',
  'genid',
]);
const DEVICES_HANDLED = new Set([
  'emulator',
  'disk',
  'interface',
  'controller',
  'serial',
  'console',
  'channel',
  'input',
  'graphics',
  'video',
  'memballoon',
  'tpm',
  'audio',
]);
const FEATURES_HANDLED = new Set(['acpi', 'apic', 'smm', 'pae', 'vmport', 'vmcoreinfo']);

/** Hangar's own <metadata> child (whatever prefix the XML gives its namespace). */
function hangarMeta(meta: XNode | undefined): { id?: string; osType?: string } {
  for (const key of childNames(meta)) {
    for (const node of list(meta?.[key])) {
      const prefix = Object.keys(node)
        .find((k) => k.startsWith('@_xmlns:') && node[k] === HANGAR_NS)
        ?.slice('@_xmlns:'.length);
      if (prefix) return { osType: text(one(node, `${prefix}:os-type`)) };
    }
  }
  return {};
}

/** What libosinfo's id says about the OS family, when virt-install or virt-manager recorded it. */
function osFromLibosinfo(meta: XNode | undefined): OsType | null {
  for (const key of childNames(meta)) {
    if (!key.endsWith('libosinfo')) continue;
    const osKey = childNames(list(meta?.[key])[0]).find((k) => k.endsWith(':os'));
    const id = attr(one(list(meta?.[key])[0], osKey ?? ''), 'id') ?? '';
    if (/microsoft\.com\/win\/11/.test(id)) return 'windows11';
    if (/microsoft\.com\/win\//.test(id)) return 'windows10';
    if (/(free|open|net)bsd\.org/.test(id)) return 'bsd';
    if (/debian|ubuntu|fedora|redhat|centos|rocky|alma|suse|archlinux|alpine|gentoo|linux/.test(id))
      return 'linux';
  }
  return null;
}

function readFirmware(os: XNode | undefined, dropped: string[]): Firmware {
  const loader = one(os, 'loader');
  const efi =
    attr(os, 'firmware') === 'efi' ||
    (attr(loader, 'type') === 'pflash' && /ovmf|edk2|efi/i.test(text(loader) ?? ''));
  if (text(loader))
    dropped.push(`firmware file ${text(loader)}: Hangar picks its firmware from QEMU's descriptors.`);
  const nvram = one(os, 'nvram');
  if (efi && (text(nvram) || attr(nvram, 'template')))
    dropped.push(
      `UEFI variables ${text(nvram) ?? attr(nvram, 'template')}: the VM starts with a fresh store from the firmware's template.`,
    );
  if (!efi) return 'bios';
  const features = list(one(os, 'firmware')?.feature);
  const secure =
    attr(loader, 'secure') === 'yes' ||
    features.some((f) => attr(f, 'name') === 'secure-boot' && attr(f, 'enabled') === 'yes');
  return secure ? 'uefi-secure' : 'uefi';
}

function readCpu(cpu: XNode | undefined, dropped: string[]): string | null {
  if (one(cpu, 'topology')) dropped.push('CPU topology (sockets, cores, threads): Hangar sets only a count.');
  if (list(cpu?.feature).length) dropped.push('CPU feature flags: Hangar sets only a model.');
  const mode = attr(cpu, 'mode') ?? (cpu ? 'custom' : undefined);
  if (mode === undefined) return null;
  if (mode === 'host-passthrough') return 'host';
  if (mode === 'maximum') return 'max';
  const model = text(one(cpu, 'model'));
  if (mode === 'custom' && model && CpuModel.safeParse(model).success) return model;
  dropped.push(`CPU mode ${mode}${model ? ` (${model})` : ''}: the host's default model is used.`);
  return null;
}

function readDirectBoot(os: XNode | undefined, policy: PathPolicy, dropped: string[]) {
  const kernel = text(one(os, 'kernel'));
  if (one(os, 'dtb')) dropped.push('device tree (dtb): not used on x86.');
  if (!kernel) return null;
  const initrd = text(one(os, 'initrd'));
  const cmdline = text(one(os, 'cmdline')) ?? '';
  return {
    kernel: checkHostPath(policy, kernel, 'kernel').path,
    ...(initrd ? { initrd: checkHostPath(policy, initrd, 'initrd').path } : {}),
    cmdline,
  };
}

type Kind = 'disk' | 'cdrom' | 'network';

/** Per-device boot orders first; the legacy <os><boot dev=.../> list otherwise. */
function readBootOrder(os: XNode | undefined, ordered: { kind: Kind; order: number | null }[]): Kind[] {
  const kinds: Kind[] = [];
  const per = ordered.filter((d) => d.order !== null).sort((a, b) => a.order! - b.order!);
  for (const d of per) if (!kinds.includes(d.kind)) kinds.push(d.kind);
  if (kinds.length) return kinds;
  const legacy: Record<string, Kind> = { hd: 'disk', cdrom: 'cdrom', network: 'network' };
  for (const b of list(os?.boot)) {
    const k = legacy[attr(b, 'dev') ?? ''];
    if (k && !kinds.includes(k)) kinds.push(k);
  }
  return kinds.length ? kinds : ['disk', 'cdrom'];
}

function readOtherDevices(
  devices: XNode | undefined,
  dropped: string[],
): { vga: VmConfig['display']['vga']; usbTablet: boolean; tpm: boolean } {
  for (const name of childNames(devices))
    if (!DEVICES_HANDLED.has(name)) dropped.push(`device <${name}>: not part of what Hangar imports.`);
  for (const ch of list(devices?.channel)) {
    const name = attr(one(ch, 'target'), 'name');
    if (name !== GUEST_AGENT_CHANNEL)
      dropped.push(`channel ${name ?? attr(ch, 'type')}: Hangar provides only the guest agent's.`);
  }
  for (const g of list(devices?.graphics))
    if (attr(g, 'type') !== 'vnc') dropped.push(`${attr(g, 'type')} graphics: Hangar's console is VNC.`);
  for (const a of list(devices?.audio))
    if (attr(a, 'type') !== 'none') dropped.push(`audio (${attr(a, 'type')}): Hangar VMs have no sound.`);
  const videoModel = attr(one(one(devices, 'video'), 'model'), 'type');
  const vgaMap: Record<string, VmConfig['display']['vga']> = {
    vga: 'std',
    virtio: 'virtio',
    qxl: 'qxl',
    none: 'none',
  };
  let vga = videoModel ? vgaMap[videoModel] : one(devices, 'graphics') ? 'std' : 'none';
  if (!vga) {
    dropped.push(`video model ${videoModel}: the standard VGA is used.`);
    vga = 'std';
  }
  const usbTablet = list(devices?.input).some((i) => attr(i, 'type') === 'tablet');
  let tpm = false;
  for (const t of list(devices?.tpm)) {
    const backend = one(t, 'backend');
    if (attr(backend, 'type') !== 'emulator')
      dropped.push(`TPM with a ${attr(backend, 'type')} backend: only an emulated TPM is imported.`);
    else {
      if ((attr(backend, 'version') ?? '2.0') !== '2.0')
        dropped.push(`TPM version ${attr(backend, 'version')}: Hangar's TPM is 2.0.`);
      tpm = true;
    }
  }
  return { vga, usbTablet, tpm };
}

function readDevices(devices: XNode | undefined, ctx: DeviceContext, copies: DiskCopy[]) {
  const disks: Booted<Disk>[] = [];
  const cdroms: Booted<Cdrom>[] = [];
  for (const node of list(devices?.disk)) {
    const device = attr(node, 'device') ?? 'disk';
    if (device === 'cdrom') {
      if (cdroms.length >= 4) ctx.dropped.push('CD-ROMs beyond 4.');
      else {
        const cd = readCdrom(node, cdroms.length, ctx);
        if (cd) cdroms.push(cd);
      }
    } else if (device === 'disk') {
      if (disks.length >= 16) ctx.dropped.push('disks beyond 16.');
      else {
        const d = readDisk(node, disks.length, ctx, copies);
        if (d) disks.push(d);
      }
    } else ctx.dropped.push(`a ${device} device: Hangar imports disks and CD-ROMs.`);
  }
  const nics: Booted<Nic>[] = [];
  for (const node of list(devices?.interface)) {
    if (nics.length >= 8) ctx.dropped.push('NICs beyond 8.');
    else {
      const n = readNic(node, nics.length, ctx);
      if (n) nics.push(n);
    }
  }
  return { disks, cdroms, nics };
}

/** The same sentence once, and at most MAX_DROPPED of them: a hostile XML can repeat an element. */
const MAX_DROPPED = 200;
function bounded(dropped: string[]): string[] {
  const unique = [...new Set(dropped)];
  if (unique.length <= MAX_DROPPED) return unique;
  return [...unique.slice(0, MAX_DROPPED), `... and ${unique.length - MAX_DROPPED} more.`];
}

export function importDomain(xml: string, opts: ImportOptions): ImportPlan {
  const doc = parseUntrustedXml(xml);
  const domain = one(doc, 'domain');
  if (!domain)
    throw new HangarError('INVALID_INPUT', 'This is not a libvirt domain XML (no <domain> element).');
  const type = attr(domain, 'type');
  if (type !== 'kvm' && type !== 'qemu')
    throw new HangarError(
      'UNSUPPORTED',
      `A ${type ?? 'typeless'} domain: Hangar imports QEMU/KVM domains only.`,
    );
  const dropped: string[] = [];
  for (const name of childNames(domain))
    if (!TOP_HANDLED.has(name)) dropped.push(`<${name}>: not part of what Hangar imports.`);
  for (const name of childNames(one(domain, 'features')))
    if (!FEATURES_HANDLED.has(name)) dropped.push(`feature <${name}>: not set by Hangar.`);
  const os = one(domain, 'os');
  const osType = one(os, 'type');
  if ((attr(osType, 'arch') ?? 'x86_64') !== 'x86_64' || (text(osType) ?? 'hvm') !== 'hvm')
    throw new HangarError(
      'UNSUPPORTED',
      `Hangar runs x86_64 hvm guests; this domain is ${attr(osType, 'arch')} ${text(osType)}.`,
    );
  const machineGiven = attr(osType, 'machine') ?? 'q35';
  const machine = MachineType.safeParse(machineGiven).success ? machineGiven : 'q35';
  if (machine !== machineGiven) dropped.push(`machine type ${machineGiven}: q35 is used.`);

  const ctx: DeviceContext = {
    policy: opts.policy,
    copyDisks: opts.copyDisks ?? false,
    blockDevices: opts.blockDevices ?? false,
    dropped,
  };
  const copies: DiskCopy[] = [];
  const devices = one(domain, 'devices');
  const { disks, cdroms, nics } = readDevices(devices, ctx, copies);
  const other = readOtherDevices(devices, dropped);
  const firmware = readFirmware(os, dropped);
  const cpuModel = readCpu(one(domain, 'cpu'), dropped);
  const directBoot = readDirectBoot(os, opts.policy, dropped);
  const bootOrder = readBootOrder(os, [
    ...disks.map((d) => ({ kind: 'disk' as const, order: d.order })),
    ...cdroms.map((d) => ({ kind: 'cdrom' as const, order: d.order })),
    ...nics.map((d) => ({ kind: 'network' as const, order: d.order })),
  ]);

  const meta = hangarMeta(one(domain, 'metadata'));
  const clockLocal = attr(one(domain, 'clock'), 'offset') === 'localtime';
  const fromMeta = OsTypeSchema.safeParse(meta.osType);
  if (meta.osType !== undefined && !fromMeta.success)
    dropped.push(`OS type '${meta.osType}' in Hangar's metadata is not one Hangar knows.`);
  const osTypeValue: OsType = fromMeta.success
    ? fromMeta.data
    : (osFromLibosinfo(one(domain, 'metadata')) ?? (clockLocal ? 'windows10' : 'other'));
  const vcpu = one(domain, 'vcpu');
  const cpus = Number(attr(vcpu, 'current') ?? text(vcpu) ?? '1');
  if (attr(vcpu, 'current')) dropped.push(`vCPU hotplug (up to ${text(vcpu)}): the VM gets ${cpus}.`);
  let name =
    (meta.osType !== undefined ? text(one(domain, 'title')) : undefined) ?? text(one(domain, 'name')) ?? '';
  if (name.length > 100) {
    dropped.push('the name beyond 100 characters.');
    name = name.slice(0, 100);
  }
  let description = text(one(domain, 'description')) ?? '';
  if (description.length > 4000) {
    dropped.push('the description beyond 4000 characters.');
    description = description.slice(0, 4000);
  }
  const stamp = (opts.now ?? new Date()).toISOString();
  const config = parseConfig({
    schemaVersion: VM_SCHEMA_VERSION,
    id: opts.id ?? newVmId(),
    name,
    description,
    osType: osTypeValue,
    cpus,
    memoryMiB: memoryMiB(one(domain, 'memory')),
    machine,
    cpuModel,
    firmware,
    tpm: other.tpm,
    disks: disks.map((d) => d.device),
    cdroms: cdroms.map((d) => d.device),
    nics: nics.map((d) => d.device),
    display: { vga: other.vga, usbTablet: other.usbTablet },
    bootOrder,
    directBoot,
    createdAt: stamp,
    updatedAt: stamp,
  });
  return { config, dropped: bounded(dropped), copies };
}
