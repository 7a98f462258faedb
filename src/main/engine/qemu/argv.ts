// The QEMU command line as a pure function of the VM config, the host probe and the VM's paths.
// It returns an argv array for spawn() (never a shell string); golden tests pin its output.
import type { VmConfig } from '../../../shared/vm';
import type { HostInfo } from '../../../shared/host';
import { json, optValue, opts } from './escape';
import { BusAllocator, bootIndexes, cdromArgs, diskArgs, nicArgs } from './devices';
import { shareNic } from '../share/folder';
import { smbGuestfwd } from '../share/smb-conf';
import { SHARE_TAG } from '../../../shared/share';
import { selectFirmware } from './firmware';

/** The SeaBIOS debug ring's size: a few boots' worth of its messages (about 4 KiB each). */
export const FIRMWARE_RING_BYTES = 65536;

export interface LaunchPaths {
  vmDir: string;
  qmpSocket: string;
  serialSocket: string;
  vncSocket: string;
  pidFile: string;
  serialLog: string;
  /** The per-VM UEFI variable store (qcow2, so internal snapshots include it). */
  varsFile: string;
  tpmSocket: string;
  /** The guest agent's channel, used to freeze filesystems for consistent disk snapshots. */
  qgaSocket: string;
  /** The VM's private runtime folder: lab NICs' sockets are made in it. */
  runDir: string;
}

export interface BuildOptions {
  /** Start with CPUs stopped (-S), e.g. to inspect the machine before it runs. */
  paused?: boolean;
}

const VGA_DEVICES = { std: 'VGA', virtio: 'virtio-vga', qxl: 'qxl-vga' } as const;

/** Resolves an alias such as q35 to the versioned machine type the firmware descriptors name. */
export function resolveMachine(host: HostInfo, machine: string): string {
  return host.machines.find((m) => m.alias === machine)?.name ?? machine;
}

export function diskPath(vm: VmConfig, disk: VmConfig['disks'][number], vmDir: string): string {
  return disk.owned ? `${vmDir}/${disk.file}` : disk.path;
}

export function buildArgv(
  vm: VmConfig,
  host: HostInfo,
  paths: LaunchPaths,
  options: BuildOptions = {},
): string[] {
  const machineName = resolveMachine(host, vm.machine);
  const q35 = machineName.includes('q35');
  const machine: Record<string, string | boolean> = {};
  const args: string[] = ['-name', `guest=${optValue(vm.name)}`, '-no-user-config', '-nodefaults'];
  const firmware: string[] = [];

  if (vm.firmware !== 'bios') {
    const fw = selectFirmware(host.firmware, vm.firmware, machineName);
    const code = {
      driver: 'file',
      filename: fw.executable.filename,
      'node-name': 'fw-code-file',
      'read-only': true,
    };
    const codeFmt = {
      driver: fw.executable.format,
      file: 'fw-code-file',
      'node-name': 'fw-code',
      'read-only': true,
    };
    const vars = { driver: 'file', filename: paths.varsFile, 'node-name': 'fw-vars-file' };
    const varsFmt = { driver: 'qcow2', file: 'fw-vars-file', 'node-name': 'fw-vars' };
    firmware.push('-blockdev', json(code), '-blockdev', json(codeFmt), '-blockdev', json(vars));
    firmware.push('-blockdev', json(varsFmt));
    machine.pflash0 = 'fw-code';
    machine.pflash1 = 'fw-vars';
    if (fw.requiresSmm || vm.firmware === 'uefi-secure') machine.smm = true;
    if (vm.firmware === 'uefi-secure')
      firmware.push('-global', 'driver=cfi.pflash01,property=secure,value=on');
  }

  args.push('-machine', opts(machineName, machine), '-accel', host.accel);
  args.push('-cpu', vm.cpuModel ?? host.defaultCpu, '-smp', String(vm.cpus), '-m', `${vm.memoryMiB}M`);
  args.push(...firmware);
  if (vm.firmware === 'bios') {
    // SeaBIOS's own messages (its debug port), so "No bootable device." can reach the card. A
    // ring in QEMU's memory, read over QMP: the guest can write that port without end, and a
    // file in the runtime folder (RAM on most systems) would grow with it.
    args.push('-chardev', `ringbuf,id=fwlog,size=${FIRMWARE_RING_BYTES}`);
    args.push('-device', 'isa-debugcon,iobase=0x402,chardev=fwlog');
  }
  // Windows keeps its clock in local time; everything else expects UTC.
  args.push('-rtc', vm.osType.startsWith('windows') ? 'base=localtime' : 'base=utc');

  const boot = bootIndexes(vm);
  const buses = new BusAllocator(q35);
  const storage: string[] = [];
  for (const disk of vm.disks)
    storage.push(...diskArgs(disk, diskPath(vm, disk, paths.vmDir), boot.get(disk.id), buses));
  for (const cd of vm.cdroms) storage.push(...cdromArgs(cd, boot.get(cd.id), buses));
  args.push(...buses.controllers, ...storage);
  const shareOn = vm.sharedFolder ? shareNic(vm) : null;
  for (const nic of vm.nics)
    args.push(
      ...nicArgs(nic, boot.get(nic.id), paths.runDir, nic.id === shareOn ? smbGuestfwd(paths.runDir) : null),
    );

  if (vm.display.vga !== 'none') args.push('-device', VGA_DEVICES[vm.display.vga]);
  if (vm.display.usbTablet) args.push('-device', 'qemu-xhci,id=usb', '-device', 'usb-tablet,bus=usb.0');
  if (vm.tpm) {
    args.push('-chardev', opts('socket', { id: 'tpm-chr', path: paths.tpmSocket }));
    args.push('-tpmdev', 'emulator,id=tpm0,chardev=tpm-chr', '-device', 'tpm-crb,tpmdev=tpm0');
  }
  if (vm.directBoot) {
    args.push('-kernel', vm.directBoot.kernel);
    if (vm.directBoot.initrd) args.push('-initrd', vm.directBoot.initrd);
    if (vm.directBoot.cmdline) args.push('-append', vm.directBoot.cmdline);
  }

  // Control and consoles: UNIX sockets only, never TCP, so nothing is reachable from the network.
  args.push('-chardev', opts('socket', { id: 'qmp', path: paths.qmpSocket, server: true, wait: false }));
  args.push('-mon', 'chardev=qmp,mode=control');
  const serial = {
    id: 'serial0',
    path: paths.serialSocket,
    server: true,
    wait: false,
    logfile: paths.serialLog,
    logappend: true,
  };
  args.push('-chardev', opts('socket', serial), '-serial', 'chardev:serial0');
  args.push('-device', 'virtio-serial-pci,id=vser0');
  args.push('-chardev', opts('socket', { id: 'qga', path: paths.qgaSocket, server: true, wait: false }));
  args.push('-device', 'virtserialport,bus=vser0.0,chardev=qga,name=org.qemu.guest_agent.0');
  if (vm.sharedFolder?.over9p) {
    // The same folder over virtio-9p, for guests whose kernel has 9p, when the user asks: the last
    // device, so the others keep their PCI slots (and RAM snapshots taken without it still load).
    // mapped-xattr: the guest's owners and modes (setuid included) live in xattrs, never on the
    // host file, so a guest cannot leave a setuid program in the folder.
    const { path, readOnly } = vm.sharedFolder;
    args.push(
      '-fsdev',
      opts('local', {
        id: 'share9p',
        path,
        security_model: 'mapped-xattr',
        multidevs: 'remap',
        readonly: readOnly,
      }),
      '-device',
      opts('virtio-9p-pci', { fsdev: 'share9p', mount_tag: SHARE_TAG }),
    );
  }

  args.push('-display', 'none', '-vnc', `unix:${optValue(paths.vncSocket)}`);
  args.push('-pidfile', paths.pidFile, '-msg', 'timestamp=on');
  // seccomp: even a monitor command such as `migrate exec:...` cannot spawn a process. A shared
  // folder is the exception: QEMU starts smbd when the guest connects, and smbd (which inherits
  // the filter) changes its user and groups, so that VM's QEMU may spawn and smbd may switch ids.
  const share = vm.sharedFolder !== null && shareOn !== null;
  args.push(
    '-sandbox',
    `on,obsolete=deny,elevateprivileges=${share ? 'allow' : 'deny'},spawn=${share ? 'allow' : 'deny'},resourcecontrol=deny`,
  );
  if (options.paused) args.push('-S');
  return args;
}
