// VM configs for the libvirt unit tests: a typical VM and variants built on it.
import { parseConfig } from '../config/store';
import type { VmConfig, VmConfigInput } from '../../../shared/vm';

const STAMP = '2026-11-28T12:00:00.000Z';

export function sampleVm(overrides: Partial<VmConfigInput> = {}): VmConfig {
  return parseConfig({
    schemaVersion: 1,
    id: 'abcdefgh1234',
    name: 'web <test> & "quotes"',
    osType: 'linux',
    cpus: 2,
    memoryMiB: 512,
    machine: 'q35',
    firmware: 'bios',
    disks: [
      { id: 'disk0', owned: true, file: 'disk0.qcow2', format: 'qcow2', bus: 'virtio' },
      {
        id: 'data',
        owned: false,
        path: '/srv/images/data & more.raw',
        format: 'raw',
        bus: 'sata',
        readOnly: true,
        cache: 'none',
        discard: false,
      },
    ],
    cdroms: [{ id: 'cd0', bus: 'sata', media: '/srv/isos/debian.iso' }],
    nics: [
      {
        id: 'nic0',
        model: 'virtio',
        mac: '52:54:00:12:34:56',
        mode: 'user',
        portForwards: [
          { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 },
          { protocol: 'udp', hostAddress: '0.0.0.0', hostPort: 5353, guestPort: 53 },
        ],
      },
    ],
    display: { vga: 'std', usbTablet: true },
    bootOrder: ['disk', 'cdrom'],
    createdAt: STAMP,
    updatedAt: STAMP,
    ...overrides,
  });
}
