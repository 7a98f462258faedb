// A Hangar VM as a libvirt domain, built from Hangar's own model (never from the QEMU command
// line). What libvirt cannot express is returned in `dropped`, one sentence per setting, so the
// caller can show it; nothing is dropped in silence. docs/libvirt.md lists the mapping.
import { SHARE_TAG } from '../../../shared/share';
import type { LibvirtExport } from '../../../shared/libvirt';
import { createHash } from 'node:crypto';
import type { VmConfig } from '../../../shared/vm';
import { bootIndexes } from '../qemu/devices';
import { Targets, cdromNode, diskNode, isQ35, nicNode, type UserNet } from './devices';
import { buildXml, type XNode } from './xml';

/** Hangar's own metadata inside <metadata>, so an import can restore what libvirt has no field for. */
export const HANGAR_NS = 'urn:x-hangar:libvirt-domain:1';
export const GUEST_AGENT_CHANNEL = 'org.qemu.guest_agent.0';

export interface ExportOptions {
  /** The VM's own directory: owned disks are files in it. */
  vmDir: string;
  /** 'kvm' for hosts with working KVM (the default), 'qemu' for TCG. */
  domainType?: 'kvm' | 'qemu';
  /**
   * User-mode NICs: libvirt's passt backend (port forwards kept; the default), QEMU's built-in
   * SLIRP (no port forwards in libvirt), or a libvirt network such as 'default'.
   */
  userNet?: UserNet;
  /** The domain's name on the libvirt host; the VM's name (made valid) by default. */
  name?: string;
  /**
   * Where libvirt keeps the UEFI variables. `carried` says the caller converted Hangar's store to
   * this raw file (exportNvram); otherwise libvirt creates a fresh one from the template.
   */
  nvram?: { path: string; carried: boolean };
  /** A file virtlogd appends the serial console to (the pty stays the console). */
  serialLog?: string;
}

export type ExportResult = LibvirtExport;

/** The same VM always gets the same UUID, so exporting twice redefines rather than duplicates. */
export function domainUuid(vmId: string): string {
  const h = createHash('sha256').update(`hangar-vm:${vmId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** libvirt refuses '/' in names and names that are only spaces; the VM's name stays in <title>. */
export function domainName(name: string): string {
  const cleaned = name.replaceAll('/', '-').trim();
  return cleaned.length ? cleaned : 'hangar-vm';
}

function cpuNode(vm: VmConfig, type: 'kvm' | 'qemu', dropped: string[]): XNode {
  const model = vm.cpuModel;
  if (model === null) return { '@_mode': type === 'kvm' ? 'host-passthrough' : 'maximum' };
  if (model === 'host') {
    if (type === 'kvm') return { '@_mode': 'host-passthrough' };
    dropped.push("CPU model 'host' needs KVM; the qemu (TCG) domain uses the maximum model instead.");
    return { '@_mode': 'maximum' };
  }
  if (model === 'max') return { '@_mode': 'maximum' };
  return { '@_mode': 'custom', '@_match': 'exact', model: { '@_fallback': 'forbid', '#text': model } };
}

function osNode(vm: VmConfig, opts: ExportOptions, dropped: string[]): XNode {
  const os: XNode = {};
  if (vm.firmware !== 'bios') {
    const secure = vm.firmware === 'uefi-secure';
    os['@_firmware'] = 'efi';
    // libvirt picks the firmware from the same descriptors Hangar reads, by these features.
    os.firmware = {
      feature: [
        { '@_enabled': secure ? 'yes' : 'no', '@_name': 'secure-boot' },
        ...(secure ? [{ '@_enabled': 'yes', '@_name': 'enrolled-keys' }] : []),
      ],
    };
    if (secure) os.loader = { '@_secure': 'yes' };
    if (opts.nvram) os.nvram = { '#text': opts.nvram.path };
    if (!opts.nvram?.carried)
      dropped.push(
        "UEFI variables (Hangar's uefi-vars.qcow2: boot entries, enrolled keys): libvirt 9 keeps NVRAM as a raw " +
          'file and starts from the firmware template; convert the store with exportNvram to carry them.',
      );
  }
  os.type = { '@_arch': 'x86_64', '@_machine': vm.machine, '#text': 'hvm' };
  if (vm.directBoot) {
    os.kernel = vm.directBoot.kernel;
    if (vm.directBoot.initrd) os.initrd = vm.directBoot.initrd;
    if (vm.directBoot.cmdline) os.cmdline = vm.directBoot.cmdline;
  }
  return os;
}

function devicesNode(vm: VmConfig, opts: ExportOptions, dropped: string[]): XNode {
  const boot = bootIndexes(vm);
  const targets = new Targets(isQ35(vm));
  const disks = [
    ...vm.disks.map((d) => diskNode(d, opts.vmDir, targets, boot.get(d.id))),
    ...vm.cdroms.map((c) => cdromNode(c, targets, boot.get(c.id))),
  ];
  const userNet = opts.userNet ?? 'passt';
  const nics = vm.nics
    .map((n) => nicNode(n, userNet, dropped, boot.get(n.id)))
    .filter((n): n is XNode => n !== null);
  const devices: XNode = { disk: disks };
  const controllers: XNode[] = [];
  if ([...vm.disks, ...vm.cdroms].some((d) => d.bus === 'scsi'))
    controllers.push({ '@_type': 'scsi', '@_index': 0, '@_model': 'virtio-scsi' });
  // Hangar adds a USB controller only for the tablet; libvirt adds one unless told not to.
  controllers.push({ '@_type': 'usb', '@_model': vm.display.usbTablet ? 'qemu-xhci' : 'none' });
  devices.controller = controllers;
  if (nics.length) devices.interface = nics;
  const serial: XNode = { '@_type': 'pty' };
  if (opts.serialLog) serial.log = { '@_file': opts.serialLog, '@_append': 'on' };
  serial.target = { '@_port': 0 };
  devices.serial = serial;
  devices.console = { '@_type': 'pty', target: { '@_type': 'serial', '@_port': 0 } };
  // libvirt makes the socket in its own per-domain directory.
  devices.channel = {
    '@_type': 'unix',
    source: { '@_mode': 'bind' },
    target: { '@_type': 'virtio', '@_name': GUEST_AGENT_CHANNEL },
  };
  if (vm.display.usbTablet) devices.input = { '@_type': 'tablet', '@_bus': 'usb' };
  if (vm.sharedFolder?.over9p) {
    // Hangar's 9p device as libvirt says it: mapped is QEMU's security_model=mapped-xattr.
    devices.filesystem = {
      '@_type': 'mount',
      '@_accessmode': 'mapped',
      source: { '@_dir': vm.sharedFolder.path },
      target: { '@_dir': SHARE_TAG },
      ...(vm.sharedFolder.readOnly ? { readonly: '' } : {}),
    };
  }
  if (vm.tpm) devices.tpm = { '@_model': 'tpm-crb', backend: { '@_type': 'emulator', '@_version': '2.0' } };
  // VNC on a UNIX socket like Hangar's own (nothing listens on the network); libvirt names it.
  devices.graphics = { '@_type': 'vnc', listen: { '@_type': 'socket' } };
  devices.video = { model: { '@_type': vm.display.vga === 'std' ? 'vga' : vm.display.vga } };
  devices.memballoon = { '@_model': 'none' };
  return devices;
}

function droppedHangarState(vm: VmConfig, dropped: string[]): void {
  if (vm.snapshots.length)
    dropped.push(
      `${vm.snapshots.length} snapshot(s): their data stays inside the qcow2 images, but libvirt does not ` +
        "list them (its snapshot list starts empty) and Hangar's names and tree are not carried.",
    );
  if (vm.template)
    dropped.push('template: libvirt has no templates; the domain can be started like any other.');
  if (vm.baseline)
    dropped.push(
      'baseline: the disks are exported as the overlays they are (libvirt follows their backing files); ' +
        'reset-to-baseline is Hangar only.',
    );
  if (vm.sharedFolder)
    dropped.push(
      `shared folder ${vm.sharedFolder.path} over SMB: QEMU's user-mode SMB share, which libvirt's passt and ` +
        'default networks do not offer.' +
        (vm.sharedFolder.over9p ? ' Its 9p export is carried (a <filesystem>, tag hangar).' : ''),
    );
  if (vm.linkedTo)
    dropped.push(
      `linked clone of ${vm.linkedTo}: the disks stay overlays on the template's files, which must stay where they are.`,
    );
}

export function exportDomain(vm: VmConfig, opts: ExportOptions): ExportResult {
  const dropped: string[] = [];
  const type = opts.domainType ?? 'kvm';
  const name = opts.name ?? domainName(vm.name);
  const uuid = domainUuid(vm.id);
  const metadata: XNode = {
    'hangar:vm': {
      '@_xmlns:hangar': HANGAR_NS,
      'hangar:id': vm.id,
      'hangar:os-type': vm.osType,
      ...(vm.os?.shortId ? { 'hangar:os-variant': vm.os.shortId } : {}),
    },
  };
  const features: XNode = { acpi: '', apic: '' };
  if (vm.firmware === 'uefi-secure') features.smm = { '@_state': 'on' };
  const domain: XNode = {
    '@_type': type,
    name,
    uuid,
    title: vm.name,
    ...(vm.description ? { description: vm.description } : {}),
    metadata,
    memory: { '@_unit': 'MiB', '#text': vm.memoryMiB },
    vcpu: { '@_placement': 'static', '#text': vm.cpus },
    os: osNode(vm, opts, dropped),
    features,
    cpu: cpuNode(vm, type, dropped),
    clock: { '@_offset': vm.osType.startsWith('windows') ? 'localtime' : 'utc' },
    on_poweroff: 'destroy',
    on_reboot: 'restart',
    on_crash: 'destroy',
    devices: devicesNode(vm, opts, dropped),
  };
  droppedHangarState(vm, dropped);
  return { xml: buildXml({ domain }), dropped, name, uuid };
}
