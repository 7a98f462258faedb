import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { domainUuid, exportDomain } from './export';
import { sampleVm } from './fixtures';
import { validateDomainXml } from './virsh';
import { attr, list, one, parseUntrustedXml, text, type XNode } from './xml';

const hasValidator = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v virt-xml-validate && command -v xmllint'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasValidator)
  console.warn('virt-xml-validate checks skipped: sudo apt-get install libvirt-clients libxml2-utils');

const VM_DIR = '/var/lib/hangar/vms/abcdefgh1234';

function domainOf(xml: string): XNode {
  return one(parseUntrustedXml(xml), 'domain')!;
}
const devices = (xml: string) => one(domainOf(xml), 'devices')!;

describe('libvirt export', () => {
  it('escapes names and paths instead of splicing them into markup', () => {
    const { xml } = exportDomain(sampleVm(), { vmDir: VM_DIR });
    expect(xml).not.toContain('<test>');
    const d = domainOf(xml);
    expect(text(one(d, 'title'))).toBe('web <test> & "quotes"');
    const files = list(devices(xml).disk).map((n) => attr(one(n, 'source'), 'file'));
    expect(files).toEqual([`${VM_DIR}/disk0.qcow2`, '/srv/images/data & more.raw', '/srv/isos/debian.iso']);
  });

  it('maps disks with explicit formats, buses, cache, read-only and boot order', () => {
    const disks = list(devices(exportDomain(sampleVm(), { vmDir: VM_DIR }).xml).disk);
    expect(disks.map((n) => attr(one(n, 'driver'), 'type'))).toEqual(['qcow2', 'raw', 'raw']);
    expect(disks.map((n) => attr(one(n, 'target'), 'dev'))).toEqual(['vda', 'sda', 'sdb']);
    expect(disks.map((n) => attr(n, 'device'))).toEqual(['disk', 'disk', 'cdrom']);
    expect(attr(one(disks[1], 'driver'), 'cache')).toBe('none');
    expect(attr(one(disks[1], 'driver'), 'discard')).toBe('ignore');
    expect(one(disks[1], 'readonly')).toBeDefined();
    expect(disks.map((n) => attr(one(n, 'boot'), 'order'))).toEqual(['1', '2', '3']);
  });

  it('pins an external qcow2 chain and ends it, and uses block devices and scsi as configured', () => {
    const vm = sampleVm({
      machine: 'pc',
      disks: [
        {
          id: 'ext',
          owned: false,
          path: '/srv/top.qcow2',
          format: 'qcow2',
          bus: 'scsi',
          backingChain: [
            { path: '/srv/mid.qcow2', format: 'qcow2' },
            { path: '/srv/base.raw', format: 'raw' },
          ],
        },
        { id: 'solo', owned: false, path: '/srv/solo.qcow2', format: 'qcow2', bus: 'ide' },
        { id: 'dev', owned: false, path: '/dev/sdz', format: 'raw', bus: 'virtio', blockDevice: true },
      ],
      cdroms: [],
    });
    const out = devices(exportDomain(vm, { vmDir: VM_DIR }).xml);
    const [ext, solo, dev] = list(out.disk);
    const mid = one(ext, 'backingStore')!;
    expect(attr(one(mid, 'source'), 'file')).toBe('/srv/mid.qcow2');
    const base = one(mid, 'backingStore')!;
    expect(attr(one(base, 'format'), 'type')).toBe('raw');
    expect(one(base, 'backingStore')).toBeUndefined();
    // A standalone qcow2 says so: libvirt opens no backing file its header might name.
    expect(one(solo, 'backingStore')).toBeDefined();
    expect(attr(one(solo, 'target'), 'bus')).toBe('ide');
    expect(attr(dev, 'type')).toBe('block');
    expect(attr(one(dev, 'source'), 'dev')).toBe('/dev/sdz');
    expect(list(out.controller).some((c) => attr(c, 'model') === 'virtio-scsi')).toBe(true);
  });

  it('puts IDE devices on SATA on q35, as Hangar itself does', () => {
    const vm = sampleVm({ cdroms: [{ id: 'cd0', bus: 'ide', media: null }] });
    const cd = list(devices(exportDomain(vm, { vmDir: VM_DIR }).xml).disk)[2]!;
    expect(attr(one(cd, 'target'), 'bus')).toBe('sata');
    expect(one(cd, 'source')).toBeUndefined();
  });

  it('exports BIOS by default, and UEFI with the secure-boot feature and an NVRAM file', () => {
    const bios = exportDomain(sampleVm(), { vmDir: VM_DIR });
    expect(attr(one(domainOf(bios.xml), 'os'), 'firmware')).toBeUndefined();
    expect(bios.dropped).toEqual([]);

    const uefi = exportDomain(sampleVm({ firmware: 'uefi' }), { vmDir: VM_DIR });
    const os = one(domainOf(uefi.xml), 'os')!;
    expect(attr(os, 'firmware')).toBe('efi');
    expect(list(one(os, 'firmware')!.feature).map((f) => [attr(f, 'name'), attr(f, 'enabled')])).toEqual([
      ['secure-boot', 'no'],
    ]);
    expect(uefi.dropped.join('\n')).toMatch(/UEFI variables/);

    const carried = exportDomain(sampleVm({ firmware: 'uefi-secure' }), {
      vmDir: VM_DIR,
      nvram: { path: '/var/lib/libvirt/qemu/nvram/web_VARS.fd', carried: true },
    });
    const sos = one(domainOf(carried.xml), 'os')!;
    expect(list(one(sos, 'firmware')!.feature).map((f) => attr(f, 'enabled'))).toEqual(['yes', 'yes']);
    expect(attr(one(sos, 'loader'), 'secure')).toBe('yes');
    expect(text(one(sos, 'nvram'))).toBe('/var/lib/libvirt/qemu/nvram/web_VARS.fd');
    expect(attr(one(one(domainOf(carried.xml), 'features'), 'smm'), 'state')).toBe('on');
    expect(carried.dropped).toEqual([]);
  });

  it('adds an emulated TPM 2.0, the guest agent channel, a pty serial and VNC on a socket', () => {
    const { xml } = exportDomain(sampleVm({ tpm: true }), { vmDir: VM_DIR, serialLog: '/tmp/s.log' });
    const dev = devices(xml);
    expect(attr(one(dev, 'tpm'), 'model')).toBe('tpm-crb');
    expect(attr(one(one(dev, 'tpm'), 'backend'), 'version')).toBe('2.0');
    expect(attr(one(one(dev, 'channel'), 'target'), 'name')).toBe('org.qemu.guest_agent.0');
    expect(attr(one(dev, 'serial'), 'type')).toBe('pty');
    expect(attr(one(one(dev, 'serial'), 'log'), 'file')).toBe('/tmp/s.log');
    expect(attr(one(one(dev, 'graphics'), 'listen'), 'type')).toBe('socket');
  });

  it('keeps port forwards with the passt backend', () => {
    const nic = one(devices(exportDomain(sampleVm(), { vmDir: VM_DIR }).xml), 'interface')!;
    expect(attr(nic, 'type')).toBe('user');
    expect(attr(one(nic, 'backend'), 'type')).toBe('passt');
    const fwd = list(nic.portForward);
    expect(fwd.map((f) => [attr(f, 'proto'), attr(f, 'address')])).toEqual([
      ['tcp', '127.0.0.1'],
      ['udp', undefined],
    ]);
    expect(attr(one(fwd[0], 'range'), 'start')).toBe('2222');
    expect(attr(one(fwd[0], 'range'), 'to')).toBe('22');
  });

  it('lists the forwards SLIRP or a libvirt network cannot carry, and lab NICs', () => {
    const slirp = exportDomain(sampleVm(), { vmDir: VM_DIR, userNet: 'slirp' });
    expect(one(one(devices(slirp.xml), 'interface'), 'backend')).toBeUndefined();
    expect(slirp.dropped).toHaveLength(2);
    expect(slirp.dropped[0]).toMatch(/tcp 127\.0\.0\.1:2222 -> guest 22/);

    const net = exportDomain(sampleVm(), { vmDir: VM_DIR, userNet: { network: 'default' } });
    const nic = one(devices(net.xml), 'interface')!;
    expect(attr(nic, 'type')).toBe('network');
    expect(attr(one(nic, 'source'), 'network')).toBe('default');
    expect(net.dropped).toHaveLength(3);

    const lab = exportDomain(
      sampleVm({
        nics: [
          {
            id: 'lan',
            model: 'virtio',
            mac: '52:54:00:00:00:09',
            mode: 'lab',
            segment: { lab: 'l1', name: 'net' },
          },
        ],
      }),
      { vmDir: VM_DIR },
    );
    expect(one(devices(lab.xml), 'interface')).toBeUndefined();
    expect(lab.dropped.join('\n')).toMatch(/lab segment l1\/net/);
  });

  it('chooses the CPU by domain type and says when host cannot be kept', () => {
    const cpu = (xml: string) => one(domainOf(xml), 'cpu');
    expect(attr(cpu(exportDomain(sampleVm(), { vmDir: VM_DIR, domainType: 'qemu' }).xml), 'mode')).toBe(
      'maximum',
    );
    expect(attr(cpu(exportDomain(sampleVm(), { vmDir: VM_DIR }).xml), 'mode')).toBe('host-passthrough');
    const host = exportDomain(sampleVm({ cpuModel: 'host' }), { vmDir: VM_DIR, domainType: 'qemu' });
    expect(host.dropped.join()).toMatch(/needs KVM/);
    const custom = cpu(exportDomain(sampleVm({ cpuModel: 'Skylake-Client' }), { vmDir: VM_DIR }).xml);
    expect(text(one(custom, 'model'))).toBe('Skylake-Client');
  });

  it('lists Hangar state libvirt has no place for', () => {
    const vm = sampleVm({
      template: true,
      snapshots: [
        {
          id: 'aaaaaaaa',
          tag: 'hs-aaaaaaaa',
          name: 'one',
          createdAt: '2026-11-28T12:00:00.000Z',
          parent: null,
          vmState: false,
        },
      ],
    });
    const { dropped } = exportDomain(vm, { vmDir: VM_DIR });
    expect(dropped.join('\n')).toMatch(/1 snapshot/);
    expect(dropped.join('\n')).toMatch(/template/);
  });

  it('carries the shared folder as a 9p filesystem and says the SMB share is dropped', () => {
    const vm = sampleVm({ sharedFolder: { path: '/home/u/a & <b>', readOnly: true, over9p: true } });
    const { xml, dropped } = exportDomain(vm, { vmDir: VM_DIR });
    const fs = one(devices(xml), 'filesystem')!;
    expect(attr(fs, 'accessmode')).toBe('mapped');
    expect(attr(one(fs, 'source'), 'dir')).toBe('/home/u/a & <b>');
    expect(attr(one(fs, 'target'), 'dir')).toBe('hangar');
    expect(one(fs, 'readonly')).toBeDefined();
    expect(dropped.join('\n')).toMatch(/over SMB/);
    const writable = exportDomain(
      sampleVm({ sharedFolder: { path: '/srv/x', readOnly: false, over9p: true } }),
      {
        vmDir: VM_DIR,
      },
    );
    expect(one(one(devices(writable.xml), 'filesystem'), 'readonly')).toBeUndefined();
    expect(one(devices(exportDomain(sampleVm(), { vmDir: VM_DIR }).xml), 'filesystem')).toBeUndefined();
    const smbOnly = sampleVm({ sharedFolder: { path: '/srv/x', readOnly: false, over9p: false } });
    expect(one(devices(exportDomain(smbOnly, { vmDir: VM_DIR }).xml), 'filesystem')).toBeUndefined();
  });

  it('gives a VM the same valid UUID every time', () => {
    expect(domainUuid('abcdefgh1234')).toBe(domainUuid('abcdefgh1234'));
    expect(domainUuid('abcdefgh1234')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(domainUuid('abcdefgh1235')).not.toBe(domainUuid('abcdefgh1234'));
  });

  it.skipIf(!hasValidator)('passes virt-xml-validate for every variant', async () => {
    const variants = [
      exportDomain(sampleVm(), { vmDir: VM_DIR }),
      exportDomain(sampleVm({ firmware: 'uefi', tpm: true }), { vmDir: VM_DIR, domainType: 'qemu' }),
      exportDomain(sampleVm({ firmware: 'uefi-secure', osType: 'windows11' }), {
        vmDir: VM_DIR,
        nvram: { path: '/var/lib/libvirt/qemu/nvram/x.fd', carried: true },
      }),
      exportDomain(sampleVm({ machine: 'pc', display: { vga: 'none', usbTablet: false } }), {
        vmDir: VM_DIR,
        userNet: { network: 'default' },
      }),
      exportDomain(sampleVm({ cpuModel: 'Skylake-Client' }), { vmDir: VM_DIR, userNet: 'slirp' }),
      exportDomain(sampleVm({ sharedFolder: { path: '/home/u/a & b', readOnly: true, over9p: true } }), {
        vmDir: VM_DIR,
      }),
    ];
    for (const v of variants) await validateDomainXml(v.xml);
  });
});
