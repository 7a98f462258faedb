import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HangarError } from '../../../shared/errors';
import { pathPolicy } from '../policy/paths';
import { exportDomain } from './export';
import { sampleVm } from './fixtures';
import { importDomain } from './import';
import { MAX_DOMAIN_XML } from './xml';

const root = mkdtempSync(join(tmpdir(), 'hangar-lvimport-'));
const home = join(root, 'home');
const files = join(root, 'files');
mkdirSync(join(home, 'vms', 'other'), { recursive: true });
mkdirSync(files);
for (const f of ['disk.qcow2', 'data & more.raw', 'debian.iso', 'vmlinuz', 'initrd.img'])
  writeFileSync(join(files, f), '');
writeFileSync(join(home, 'vms', 'other', 'disk0.qcow2'), '');
symlinkSync(join(home, 'vms', 'other', 'disk0.qcow2'), join(files, 'sneaky.qcow2'));
const policy = pathPolicy([home]);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const opts = { policy, id: 'importedvm01', now: new Date('2026-11-28T12:00:00Z') };

function domain(devices: string, extra = '', type = 'qemu'): string {
  return `<domain type='${type}'><name>imported</name><memory unit='KiB'>524288</memory><vcpu>2</vcpu>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>${extra}<devices>${devices}</devices></domain>`;
}
const disk = (file: string, more = '') =>
  `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${file}'/><target dev='vda' bus='virtio'/>${more}</disk>`;

function refused(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HangarError);
  expect((caught as Error).message).toMatch(pattern);
}

describe('libvirt import', () => {
  it('reads the subset: memory, CPUs, machine, disks, NICs, boot order', () => {
    const xml = domain(
      `${disk(join(files, 'disk.qcow2'), "<boot order='2'/>")}
       <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${join(files, 'debian.iso')}'/><target dev='sda' bus='sata'/><readonly/><boot order='1'/></disk>
       <interface type='user'><mac address='52:54:00:AA:BB:CC'/><model type='virtio'/><backend type='passt'/>
         <portForward proto='tcp'><range start='8080' end='8082' to='80'/></portForward></interface>`,
    );
    const { config, dropped, copies } = importDomain(xml, opts);
    expect(config).toMatchObject({ name: 'imported', memoryMiB: 512, cpus: 2, machine: 'pc-q35-7.2' });
    expect(config.bootOrder).toEqual(['cdrom', 'disk']);
    expect(config.disks).toEqual([
      expect.objectContaining({
        owned: false,
        path: join(files, 'disk.qcow2'),
        format: 'qcow2',
        bus: 'virtio',
      }),
    ]);
    expect(config.cdroms).toEqual([{ id: 'cd0', bus: 'sata', media: join(files, 'debian.iso') }]);
    expect(config.nics[0]!.mac).toBe('52:54:00:aa:bb:cc');
    expect(config.nics[0]!.portForwards.map((f) => [f.hostAddress, f.hostPort, f.guestPort])).toEqual([
      ['0.0.0.0', 8080, 80],
      ['0.0.0.0', 8081, 81],
      ['0.0.0.0', 8082, 82],
    ]);
    expect(dropped).toEqual([]);
    expect(copies).toEqual([]);
  });

  it('round-trips what Hangar exports', () => {
    const vm = sampleVm({
      disks: [
        { id: 'disk0', owned: false, path: join(files, 'disk.qcow2'), format: 'qcow2', bus: 'virtio' },
        {
          id: 'disk1',
          owned: false,
          path: join(files, 'data & more.raw'),
          format: 'raw',
          bus: 'sata',
          readOnly: true,
          cache: 'none',
          discard: false,
        },
      ],
      cdroms: [{ id: 'cd0', bus: 'sata', media: join(files, 'debian.iso') }],
      firmware: 'uefi-secure',
      tpm: true,
      directBoot: {
        kernel: join(files, 'vmlinuz'),
        initrd: join(files, 'initrd.img'),
        cmdline: 'console=ttyS0 x="a&b"',
      },
    });
    const { xml } = exportDomain(vm, { vmDir: '/unused' });
    const { config } = importDomain(xml, opts);
    for (const key of [
      'name',
      'cpus',
      'memoryMiB',
      'firmware',
      'tpm',
      'disks',
      'cdroms',
      'nics',
      'bootOrder',
      'directBoot',
      'display',
      'osType',
    ] as const)
      expect(config[key]).toEqual(vm[key]);
  });

  it('copies disks into the VM when asked, flattening what the XML names', () => {
    const { config, copies } = importDomain(domain(disk(join(files, 'disk.qcow2'))), {
      ...opts,
      copyDisks: true,
    });
    expect(config.disks[0]).toMatchObject({ owned: true, file: 'disk0.qcow2' });
    expect(copies).toEqual([
      {
        id: 'disk0',
        from: join(files, 'disk.qcow2'),
        format: 'qcow2',
        file: 'disk0.qcow2',
        backingChain: [],
      },
    ]);
  });

  it('refuses XML larger than the bound', () => {
    const huge = domain(`<!-- ${'x'.repeat(MAX_DOMAIN_XML)} -->`);
    refused(() => importDomain(huge, opts), /larger than/);
  });

  it('refuses document types, so no entity can expand or name a file', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>${domain('', '<description>&b;</description>')}`;
    refused(() => importDomain(laughs, opts), /document type/);
    const xxe = `<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/shadow">]>${domain('', '<description>&x;</description>')}`;
    refused(() => importDomain(xxe, opts), /document type/);
    refused(() => importDomain(domain('', '<description>&x;</description>'), opts), /undefined entity/);
  });

  it('decodes character references once', () => {
    const { config } = importDomain(domain('', '<description>&amp;lt; &#65;&#x42;</description>'), opts);
    expect(config.description).toBe('&lt; AB');
  });

  it('refuses nesting deeper than any domain has', () => {
    const deep = domain(`${'<a>'.repeat(200)}${'</a>'.repeat(200)}`);
    refused(() => importDomain(deep, opts), /not well-formed|nested|depth/i);
  });

  it("refuses paths the host-path policy refuses: Hangar's own data, links into it, relative paths", () => {
    refused(
      () => importDomain(domain(disk(join(home, 'vms', 'other', 'disk0.qcow2'))), opts),
      /Hangar's own data/,
    );
    refused(() => importDomain(domain(disk(join(files, 'sneaky.qcow2'))), opts), /really/);
    refused(() => importDomain(domain(disk('disk.qcow2')), opts), /absolute/);
    refused(() => importDomain(domain(disk(files)), opts), /directory/);
    refused(() => importDomain(domain(disk(join(files, 'missing.qcow2'))), opts), /does not exist/);
    refused(
      () =>
        importDomain(
          domain('').replace('</os>', `<kernel>${join(home, 'vms', 'other', 'disk0.qcow2')}</kernel></os>`),
          opts,
        ),
      /own data/,
    );
    const chain = disk(
      join(files, 'disk.qcow2'),
      `<backingStore type='file'><format type='qcow2'/><source file='${join(home, 'vms', 'other', 'disk0.qcow2')}'/></backingStore>`,
    );
    refused(() => importDomain(domain(chain), opts), /own data/);
  });

  it('refuses block devices unless asked for', () => {
    const block = `<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/null'/><target dev='vda' bus='virtio'/></disk>`;
    refused(() => importDomain(domain(block), opts), /character device|block device/);
  });

  it('imports an empty drive for an ISO that is not here, and says so', () => {
    const cd = `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/nonexistent/x.iso'/><target dev='sda' bus='sata'/></disk>`;
    const { config, dropped } = importDomain(domain(cd), opts);
    expect(config.cdroms).toEqual([{ id: 'cd0', bus: 'sata', media: null }]);
    expect(dropped.join()).toMatch(/does not exist here/);
  });

  it('refuses what is not a QEMU x86_64 domain, or lacks its memory', () => {
    refused(() => importDomain('<network/>', opts), /not a libvirt domain/);
    refused(() => importDomain(domain('', '', 'xen'), opts), /QEMU\/KVM/);
    refused(() => importDomain(domain('').replace('x86_64', 'aarch64'), opts), /x86_64/);
    refused(() => importDomain(domain('').replace(/<memory.*?<\/memory>/, ''), opts), /memory/);
    refused(() => importDomain('<domain type="qemu"><name>x', opts), /well-formed/);
  });

  it('lists every element it does not carry over', () => {
    const xml = domain(
      `<disk type='file' device='disk'><source file='${join(files, 'disk.qcow2')}'/><target dev='vda' bus='virtio'/></disk>
       <disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd' name='x'/><target dev='vdb' bus='virtio'/></disk>
       <interface type='bridge'><source bridge='br0'/><model type='e1000'/></interface>
       <hostdev mode='subsystem' type='usb'/><sound model='ich9'/><graphics type='spice'/>
       <tpm model='tpm-tis'><backend type='passthrough'/></tpm>`,
      "<cpu mode='host-model'><topology sockets='1' cores='2' threads='1'/></cpu><qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'/>",
    );
    const { config, dropped } = importDomain(xml, opts);
    expect(config.disks).toEqual([]);
    expect(config.nics[0]).toMatchObject({ mode: 'user', model: 'e1000e' });
    expect(config.tpm).toBe(false);
    const all = dropped.join('\n');
    for (const want of [
      /format not given/,
      /network disk/,
      /bridge interface \(br0\)/,
      /<hostdev>/,
      /<sound>/,
      /spice/,
      /passthrough/,
      /host-model/,
      /topology/,
      /qemu:commandline/,
    ])
      expect(all).toMatch(want);
  });

  it('keeps a hostile OS type out of the config', () => {
    const meta = `<metadata><h:vm xmlns:h='urn:x-hangar:libvirt-domain:1'><h:os-type>../../etc</h:os-type></h:vm></metadata>`;
    const { config, dropped } = importDomain(domain('', meta), opts);
    expect(config.osType).toBe('other');
    expect(dropped.join()).toMatch(/OS type/);
  });

  it('bounds what it lists when an element repeats without end', () => {
    const many = `<interface type='user'><portForward proto='sctp'/></interface>`.repeat(5000);
    const { config, dropped } = importDomain(domain(many + `<disk device='floppy'/>`.repeat(5000)), opts);
    expect(config.nics).toHaveLength(8);
    expect(dropped.length).toBeLessThanOrEqual(201);
    expect(dropped).toContain('NICs beyond 8.');
  });
});
