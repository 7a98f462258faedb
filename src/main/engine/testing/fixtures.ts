// Fixed inputs for unit tests of pure code: a host like these Debian 12 machines, and VM configs.
import type { HostInfo } from '../../../shared/host';
import type { VmConfig, VmConfigInput } from '../../../shared/vm';
import { parseConfig } from '../config/store';
import type { LaunchPaths } from '../qemu/argv';

export const HOST: HostInfo = {
  qemu: { path: '/usr/bin/qemu-system-x86_64', version: '7.2.22', major: 7, minor: 2, micro: 22 },
  qemuImg: { path: '/usr/bin/qemu-img', version: '7.2.22' },
  accel: 'tcg',
  accelReason: 'TCG (software emulation, slower) because KVM is present but unusably slow.',
  accelForced: false,
  kvm: { present: true, permitted: true, usable: false, detail: 'slow', hostCpuWorks: false },
  cpuModels: ['max', 'qemu64', 'Skylake-Client'],
  defaultCpu: 'max',
  machines: [
    { name: 'pc-q35-7.2', alias: 'q35', isDefault: false },
    { name: 'pc-i440fx-7.2', alias: 'pc', isDefault: true },
  ],
  firmware: [
    {
      descriptor: '40-edk2-x86_64-secure-enrolled.json',
      description: 'secure, enrolled',
      executable: { filename: '/usr/share/OVMF/OVMF_CODE_4M.ms.fd', format: 'raw' },
      varsTemplate: { filename: '/usr/share/OVMF/OVMF_VARS_4M.ms.fd', format: 'raw' },
      secureBoot: true,
      enrolledKeys: true,
      requiresSmm: true,
      machines: ['pc-q35-*'],
    },
    {
      descriptor: '60-edk2-x86_64.json',
      description: 'plain',
      executable: { filename: '/usr/share/OVMF/OVMF_CODE_4M.fd', format: 'raw' },
      varsTemplate: { filename: '/usr/share/OVMF/OVMF_VARS_4M.fd', format: 'raw' },
      secureBoot: false,
      enrolledKeys: false,
      requiresSmm: false,
      machines: ['pc-q35-*', 'pc-i440fx-*'],
    },
  ],
  swtpm: { path: '/usr/bin/swtpm', version: '0.7.1' },
  hostCpus: 2,
  hostMemoryMiB: 24000,
  probedAt: '2026-11-21T00:00:00.000Z',
};

export const PATHS: LaunchPaths = {
  vmDir: '/h/vms/abcdefghijkl',
  qmpSocket: '/r/abcdefghijkl/qmp.sock',
  serialSocket: '/r/abcdefghijkl/serial.sock',
  vncSocket: '/r/abcdefghijkl/vnc.sock',
  pidFile: '/r/abcdefghijkl/qemu.pid',
  serialLog: '/h/vms/abcdefghijkl/serial.log',
  varsFile: '/h/vms/abcdefghijkl/uefi-vars.qcow2',
  tpmSocket: '/r/abcdefghijkl/tpm.sock',
  qgaSocket: '/r/abcdefghijkl/qga.sock',
  runDir: '/r/abcdefghijkl',
};

export function vm(overrides: Partial<VmConfigInput> = {}): VmConfig {
  return parseConfig({
    schemaVersion: 1,
    id: 'abcdefghijkl',
    name: 'test',
    osType: 'linux',
    cpus: 1,
    memoryMiB: 256,
    firmware: 'bios',
    display: { vga: 'std', usbTablet: false },
    createdAt: '2026-11-21T00:00:00.000Z',
    updatedAt: '2026-11-21T00:00:00.000Z',
    ...overrides,
  });
}
