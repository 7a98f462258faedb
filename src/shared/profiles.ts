// Sensible defaults per OS family, applied when a VM is created. Each choice is one the guest's
// installer supports without extra drivers.
import type { Disk, Firmware, Nic, OsType } from './vm';

export interface OsProfile {
  label: string;
  cpus: number;
  memoryMiB: number;
  diskGiB: number;
  diskBus: Disk['bus'];
  nicModel: Nic['model'];
  cdromBus: 'sata' | 'ide' | 'scsi';
  firmware: Firmware;
  tpm: boolean;
  vga: 'std' | 'virtio' | 'qxl';
  usbTablet: boolean;
}

export const OS_PROFILES: Record<OsType, OsProfile> = {
  linux: {
    label: 'Linux',
    cpus: 2,
    memoryMiB: 2048,
    diskGiB: 20,
    diskBus: 'virtio',
    nicModel: 'virtio',
    cdromBus: 'sata',
    firmware: 'bios',
    tpm: false,
    vga: 'std',
    usbTablet: true,
  },
  // Windows has no virtio drivers on its install media: SATA and e1000e work out of the box.
  windows10: {
    label: 'Windows 10',
    cpus: 2,
    memoryMiB: 4096,
    diskGiB: 64,
    diskBus: 'sata',
    nicModel: 'e1000e',
    cdromBus: 'sata',
    firmware: 'uefi',
    tpm: false,
    vga: 'std',
    usbTablet: true,
  },
  // Windows 11's installer refuses machines without secure boot and TPM 2.0.
  windows11: {
    label: 'Windows 11',
    cpus: 2,
    memoryMiB: 4096,
    diskGiB: 64,
    diskBus: 'sata',
    nicModel: 'e1000e',
    cdromBus: 'sata',
    firmware: 'uefi-secure',
    tpm: true,
    vga: 'std',
    usbTablet: true,
  },
  bsd: {
    label: 'BSD',
    cpus: 2,
    memoryMiB: 2048,
    diskGiB: 20,
    diskBus: 'virtio',
    nicModel: 'virtio',
    cdromBus: 'sata',
    firmware: 'bios',
    tpm: false,
    vga: 'std',
    usbTablet: true,
  },
  // Unknown guests get the most widely supported devices.
  other: {
    label: 'Other',
    cpus: 1,
    memoryMiB: 1024,
    diskGiB: 16,
    diskBus: 'ide',
    nicModel: 'rtl8139',
    cdromBus: 'ide',
    firmware: 'bios',
    tpm: false,
    vga: 'std',
    usbTablet: false,
  },
};
