import { describe, expect, it } from 'vitest';
import { CreateVmRequest } from '../../../shared/requests';
import { HOST } from '../testing/fixtures';
import { planVm } from './create';

const plan = (req: object, host = HOST) => planVm(CreateVmRequest.parse({ name: 'x', ...req }), host);

describe('planVm and the OS profiles', () => {
  it('gives Windows 11 secure boot, a TPM, SATA, e1000e and a USB tablet', () => {
    const vm = plan({ osType: 'windows11' });
    expect(vm).toMatchObject({ firmware: 'uefi-secure', tpm: true, display: { usbTablet: true } });
    expect(vm.disks[0]).toMatchObject({ bus: 'sata', owned: true, format: 'qcow2' });
    expect(vm.nics[0]?.model).toBe('e1000e');
    expect(vm.cdroms[0]?.bus).toBe('sata');
  });

  it('gives Linux virtio devices and BIOS', () => {
    const vm = plan({ osType: 'linux' });
    expect(vm).toMatchObject({ firmware: 'bios', tpm: false });
    expect(vm.disks[0]?.bus).toBe('virtio');
    expect(vm.nics[0]?.model).toBe('virtio');
  });

  it('keeps the tags a VM is created with (they were dropped before)', () => {
    expect(plan({ tags: ['web', 'ci'] }).tags).toEqual(['web', 'ci']);
    expect(plan({}).tags).toEqual([]);
  });

  it('keeps what the user chose over the profile', () => {
    const vm = plan({
      osType: 'windows10',
      cpus: 1,
      memoryMiB: 1024,
      firmware: 'bios',
      disk: { kind: 'new', size: '1G', bus: 'virtio' },
    });
    expect(vm).toMatchObject({ cpus: 1, memoryMiB: 1024, firmware: 'bios' });
    expect(vm.disks[0]?.bus).toBe('virtio');
  });

  it('refuses more CPUs or memory than the host has, and a TPM without swtpm', () => {
    expect(() => plan({ cpus: 64 })).toThrow(/more than this host has/);
    expect(() => plan({ memoryMiB: 100_000 })).toThrow(/more memory than this host/);
    expect(() => plan({ tpm: true }, { ...HOST, swtpm: null })).toThrow(/swtpm/);
  });

  it('refuses a bad disk size before touching anything', () => {
    expect(() => plan({ disk: { kind: 'new', size: '0' } })).toThrow(/too small/);
  });
});
