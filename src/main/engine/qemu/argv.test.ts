// Golden tests: each config must produce exactly this argv. A change here is a change to what
// every user's VM runs with, so it should be deliberate.
import { describe, expect, it } from 'vitest';
import { smbGuestfwd } from '../share/smb-conf';
import { buildArgv } from './argv';
import { HOST, PATHS, vm } from '../testing/fixtures';

const TAIL = [
  '-chardev',
  'socket,id=qmp,path=/r/abcdefghijkl/qmp.sock,server=on,wait=off',
  '-mon',
  'chardev=qmp,mode=control',
  '-chardev',
  'socket,id=serial0,path=/r/abcdefghijkl/serial.sock,server=on,wait=off,logfile=/h/vms/abcdefghijkl/serial.log,logappend=on',
  '-serial',
  'chardev:serial0',
  '-device',
  'virtio-serial-pci,id=vser0',
  '-chardev',
  'socket,id=qga,path=/r/abcdefghijkl/qga.sock,server=on,wait=off',
  '-device',
  'virtserialport,bus=vser0.0,chardev=qga,name=org.qemu.guest_agent.0',
  '-display',
  'none',
  '-vnc',
  'unix:/r/abcdefghijkl/vnc.sock',
  '-pidfile',
  '/r/abcdefghijkl/qemu.pid',
  '-msg',
  'timestamp=on',
  '-sandbox',
  'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
];

const HEAD = (name: string, machine = 'pc-q35-7.2') => [
  '-name',
  `guest=${name}`,
  '-no-user-config',
  '-nodefaults',
  '-machine',
  machine,
  '-accel',
  'tcg',
  '-cpu',
  'max',
  '-smp',
  '1',
  '-m',
  '256M',
  // BIOS: SeaBIOS's debug port, read for "No bootable device." (engine/ready/boot-failure.ts).
  '-chardev',
  'ringbuf,id=fwlog,size=65536',
  '-device',
  'isa-debugcon,iobase=0x402,chardev=fwlog',
  '-rtc',
  'base=utc',
];

const blk = (o: object) => JSON.stringify(o);

describe('buildArgv golden table', () => {
  const cases: { title: string; config: Parameters<typeof vm>[0]; argv: string[] }[] = [
    {
      title: 'minimal BIOS VM with no devices',
      config: {},
      argv: [...HEAD('test'), '-device', 'VGA', ...TAIL],
    },
    {
      title: 'linux VM with a virtio disk, a CD-ROM, a NIC with a port forward, direct boot',
      config: {
        disks: [{ id: 'disk0', owned: true, file: 'disk0.qcow2', format: 'qcow2', bus: 'virtio' }],
        cdroms: [{ id: 'cd0', bus: 'sata', media: '/isos/test.iso' }],
        nics: [
          {
            id: 'nic0',
            model: 'virtio',
            mac: '52:54:00:12:34:56',
            mode: 'user',
            portForwards: [{ protocol: 'tcp', hostPort: 2222, guestPort: 22 }],
          },
        ],
        bootOrder: ['cdrom', 'disk'],
        directBoot: { kernel: '/k/vmlinuz', initrd: '/k/initrd.img', cmdline: 'console=ttyS0 quiet' },
      },
      argv: [
        ...HEAD('test'),
        '-blockdev',
        blk({
          driver: 'file',
          filename: '/h/vms/abcdefghijkl/disk0.qcow2',
          'node-name': 'disk0-file',
          'read-only': false,
          discard: 'unmap',
          cache: { direct: false, 'no-flush': false },
        }),
        '-blockdev',
        blk({
          driver: 'qcow2',
          file: 'disk0-file',
          'node-name': 'disk0',
          'read-only': false,
          discard: 'unmap',
          cache: { direct: false, 'no-flush': false },
        }),
        '-device',
        'virtio-blk-pci,drive=disk0,id=disk0-dev,write-cache=on,bootindex=2',
        '-blockdev',
        blk({ driver: 'file', filename: '/isos/test.iso', 'node-name': 'cd0-file', 'read-only': true }),
        '-blockdev',
        blk({ driver: 'raw', file: 'cd0-file', 'node-name': 'cd0-media', 'read-only': true }),
        '-device',
        'ide-cd,id=cd0,bus=ide.0,drive=cd0-media,bootindex=1',
        '-netdev',
        blk({ type: 'user', id: 'nic0-net', hostfwd: [{ str: 'tcp:127.0.0.1:2222-:22' }] }),
        '-device',
        'virtio-net-pci,netdev=nic0-net,mac=52:54:00:12:34:56,id=nic0',
        '-device',
        'VGA',
        '-kernel',
        '/k/vmlinuz',
        '-initrd',
        '/k/initrd.img',
        '-append',
        'console=ttyS0 quiet',
        ...TAIL,
      ],
    },
    {
      title: 'a lab NIC: a stream netdev listening in the VM runtime folder, beside the user NIC',
      config: {
        nics: [
          { id: 'nic0', model: 'virtio', mac: '52:54:00:12:34:56', mode: 'user' },
          {
            id: 'lab0',
            model: 'virtio',
            mac: '52:54:00:12:34:57',
            mode: 'lab',
            segment: { lab: 'web', name: 'backend' },
          },
        ],
      },
      argv: [
        ...HEAD('test'),
        '-netdev',
        blk({ type: 'user', id: 'nic0-net' }),
        '-device',
        'virtio-net-pci,netdev=nic0-net,mac=52:54:00:12:34:56,id=nic0',
        '-netdev',
        blk({
          type: 'stream',
          id: 'lab0-net',
          server: true,
          addr: { type: 'unix', path: '/r/abcdefghijkl/nic-lab0.sock' },
        }),
        '-device',
        'virtio-net-pci,netdev=lab0-net,mac=52:54:00:12:34:57,id=lab0',
        '-device',
        'VGA',
        ...TAIL,
      ],
    },
    {
      title: 'a lab NIC on the multicast fallback: a socket netdev bound to loopback',
      config: {
        nics: [
          {
            id: 'lab0',
            model: 'virtio',
            mac: '52:54:00:12:34:57',
            mode: 'lab',
            segment: { lab: 'web', name: 'backend', mcast: { group: '239.200.1.2', port: 40000 } },
          },
        ],
      },
      argv: [
        ...HEAD('test'),
        '-netdev',
        blk({ type: 'socket', id: 'lab0-net', mcast: '239.200.1.2:40000', localaddr: '127.0.0.1' }),
        '-device',
        'virtio-net-pci,netdev=lab0-net,mac=52:54:00:12:34:57,id=lab0',
        '-device',
        'VGA',
        ...TAIL,
      ],
    },
    {
      title: 'Windows 11 style: secure boot, TPM, SATA disk, e1000e, USB tablet, local clock',
      config: {
        osType: 'windows11',
        firmware: 'uefi-secure',
        tpm: true,
        disks: [
          {
            id: 'disk0',
            owned: false,
            path: '/data/win.img',
            format: 'raw',
            bus: 'sata',
            cache: 'none',
            discard: false,
          },
        ],
        nics: [{ id: 'nic0', model: 'e1000e', mac: '52:54:00:aa:bb:cc', mode: 'user' }],
        display: { vga: 'std', usbTablet: true },
      },
      argv: [
        '-name',
        'guest=test',
        '-no-user-config',
        '-nodefaults',
        '-machine',
        'pc-q35-7.2,pflash0=fw-code,pflash1=fw-vars,smm=on',
        '-accel',
        'tcg',
        '-cpu',
        'max',
        '-smp',
        '1',
        '-m',
        '256M',
        '-blockdev',
        blk({
          driver: 'file',
          filename: '/usr/share/OVMF/OVMF_CODE_4M.ms.fd',
          'node-name': 'fw-code-file',
          'read-only': true,
        }),
        '-blockdev',
        blk({ driver: 'raw', file: 'fw-code-file', 'node-name': 'fw-code', 'read-only': true }),
        '-blockdev',
        blk({ driver: 'file', filename: '/h/vms/abcdefghijkl/uefi-vars.qcow2', 'node-name': 'fw-vars-file' }),
        '-blockdev',
        blk({ driver: 'qcow2', file: 'fw-vars-file', 'node-name': 'fw-vars' }),
        '-global',
        'driver=cfi.pflash01,property=secure,value=on',
        '-rtc',
        'base=localtime',
        '-blockdev',
        blk({
          driver: 'file',
          filename: '/data/win.img',
          'node-name': 'disk0-file',
          'read-only': false,
          discard: 'ignore',
          cache: { direct: true, 'no-flush': false },
        }),
        '-blockdev',
        blk({
          driver: 'raw',
          file: 'disk0-file',
          'node-name': 'disk0',
          'read-only': false,
          discard: 'ignore',
          cache: { direct: true, 'no-flush': false },
        }),
        '-device',
        'ide-hd,drive=disk0,id=disk0-dev,bus=ide.0,write-cache=on,bootindex=1',
        '-netdev',
        blk({ type: 'user', id: 'nic0-net' }),
        '-device',
        'e1000e,netdev=nic0-net,mac=52:54:00:aa:bb:cc,id=nic0',
        '-device',
        'VGA',
        '-device',
        'qemu-xhci,id=usb',
        '-device',
        'usb-tablet,bus=usb.0',
        '-chardev',
        'socket,id=tpm-chr,path=/r/abcdefghijkl/tpm.sock',
        '-tpmdev',
        'emulator,id=tpm0,chardev=tpm-chr',
        '-device',
        'tpm-crb,tpmdev=tpm0',
        ...TAIL,
      ],
    },
    {
      title: 'pc machine: IDE disk and CD share the PIIX buses; SCSI adds one controller',
      config: {
        machine: 'pc',
        osType: 'other',
        disks: [
          { id: 'disk0', owned: true, file: 'a.raw', format: 'raw', bus: 'ide', cache: 'unsafe' },
          {
            id: 'disk1',
            owned: true,
            file: 'b.qcow2',
            format: 'qcow2',
            bus: 'scsi',
            readOnly: true,
            cache: 'writethrough',
          },
        ],
        cdroms: [{ id: 'cd0', bus: 'ide', media: null }],
        display: { vga: 'none', usbTablet: false },
        bootOrder: ['disk'],
      },
      argv: [
        ...HEAD('test', 'pc-i440fx-7.2'),
        '-device',
        'virtio-scsi-pci,id=scsi0',
        '-blockdev',
        blk({
          driver: 'file',
          filename: '/h/vms/abcdefghijkl/a.raw',
          'node-name': 'disk0-file',
          'read-only': false,
          discard: 'unmap',
          cache: { direct: false, 'no-flush': true },
        }),
        '-blockdev',
        blk({
          driver: 'raw',
          file: 'disk0-file',
          'node-name': 'disk0',
          'read-only': false,
          discard: 'unmap',
          cache: { direct: false, 'no-flush': true },
        }),
        '-device',
        'ide-hd,drive=disk0,id=disk0-dev,bus=ide.0,unit=0,write-cache=on,bootindex=1',
        '-blockdev',
        blk({
          driver: 'file',
          filename: '/h/vms/abcdefghijkl/b.qcow2',
          'node-name': 'disk1-file',
          'read-only': true,
          discard: 'unmap',
          cache: { direct: false, 'no-flush': false },
        }),
        '-blockdev',
        blk({
          driver: 'qcow2',
          file: 'disk1-file',
          'node-name': 'disk1',
          'read-only': true,
          discard: 'unmap',
          cache: { direct: false, 'no-flush': false },
        }),
        '-device',
        'scsi-hd,drive=disk1,id=disk1-dev,bus=scsi0.0,write-cache=off,bootindex=2',
        '-device',
        'ide-cd,id=cd0,bus=ide.0,unit=1',
        ...TAIL,
      ],
    },
  ];

  for (const c of cases) {
    it(c.title, () => {
      expect(buildArgv(vm(c.config), HOST, PATHS)).toEqual(c.argv);
    });
  }

  it('adds -S only when asked to start paused', () => {
    expect(buildArgv(vm(), HOST, PATHS, { paused: true }).at(-1)).toBe('-S');
    expect(buildArgv(vm(), HOST, PATHS)).not.toContain('-S');
  });
});

describe('hostile names and paths', () => {
  const hostile = [
    'a,b',
    'with space',
    'quote"d',
    "single'q",
    'k=v',
    '-leading-dash',
    'ünïcødé 🚀',
    'x,id=evil,y',
    'a,,b',
    'trailing,',
  ];

  for (const name of hostile) {
    it(`keeps the name ${JSON.stringify(name)} as one escaped -name value`, () => {
      const argv = buildArgv(vm({ name }), HOST, PATHS);
      const i = argv.indexOf('-name');
      expect(argv[i + 1]).toBe(`guest=${name.replaceAll(',', ',,')}`);
      // An un-doubled comma would start a new option key: none may survive escaping.
      expect(argv[i + 1]!.replaceAll(',,', '').includes(',')).toBe(false);
    });
  }

  const paths = [
    '/d/a,b.qcow2',
    '/d/with space.qcow2',
    '/d/q"uote.qcow2',
    '/d/k=v.qcow2',
    '/d/-dash.qcow2',
    '/d/new\nline.qcow2',
    '/d/ünï 🚀.qcow2',
    '/d/x,driver=raw',
  ];
  for (const path of paths) {
    it(`passes the disk path ${JSON.stringify(path)} only inside -blockdev JSON`, () => {
      const argv = buildArgv(
        vm({ disks: [{ id: 'disk0', owned: false, path, format: 'qcow2', bus: 'virtio' }] }),
        HOST,
        PATHS,
      );
      const blockdevs = argv.filter((_, i) => argv[i - 1] === '-blockdev').map((j) => JSON.parse(j));
      expect(blockdevs[0]).toMatchObject({ driver: 'file', filename: path });
      expect(blockdevs[1]).toMatchObject({ driver: 'qcow2', file: 'disk0-file' });
      // The path appears in no other argument, so it cannot be parsed as an option anywhere.
      const encoded = JSON.stringify(path).slice(1, -1);
      expect(argv.filter((a) => a.includes(encoded))).toHaveLength(1);
    });
  }

  it('escapes commas in socket and log paths that come from the environment', () => {
    const argv = buildArgv(vm(), HOST, { ...PATHS, qmpSocket: '/r,x/qmp.sock', vncSocket: '/r,x/vnc.sock' });
    expect(argv).toContain('socket,id=qmp,path=/r,,x/qmp.sock,server=on,wait=off');
    expect(argv).toContain('unix:/r,,x/vnc.sock');
  });

  it('refuses a NUL byte rather than passing a truncated value', () => {
    expect(() => buildArgv(vm(), HOST, { ...PATHS, qmpSocket: '/r/\u0000x' })).toThrow(/NUL/);
  });
});

describe('external qcow2 images', () => {
  const blockdevs = (argv: string[]) =>
    argv.filter((_, i) => argv[i - 1] === '-blockdev').map((j) => JSON.parse(j) as Record<string, unknown>);

  it('opens a standalone one with no backing file, whatever its header says later', () => {
    const argv = buildArgv(
      vm({ disks: [{ id: 'disk0', owned: false, path: '/data/a.qcow2', format: 'qcow2', bus: 'virtio' }] }),
      HOST,
      PATHS,
    );
    expect(blockdevs(argv).find((b) => b['node-name'] === 'disk0')).toMatchObject({ backing: null });
  });

  it('pins a confirmed chain link by link, each read-only with its format, the last with none', () => {
    const backingChain = [
      { path: '/data/mid.qcow2', format: 'qcow2' as const },
      { path: '/data/base.raw', format: 'raw' as const },
    ];
    const argv = buildArgv(
      vm({
        disks: [
          {
            id: 'disk0',
            owned: false,
            path: '/data/top.qcow2',
            format: 'qcow2',
            bus: 'virtio',
            backingChain,
          },
        ],
      }),
      HOST,
      PATHS,
    );
    const nodes = blockdevs(argv);
    const names = nodes.map((b) => b['node-name']);
    // Each node is defined before the node that refers to it.
    expect(names.indexOf('disk0-b1')).toBeLessThan(names.indexOf('disk0-b0'));
    expect(names.indexOf('disk0-b0')).toBeLessThan(names.indexOf('disk0'));
    expect(nodes.find((b) => b['node-name'] === 'disk0')).toMatchObject({ backing: 'disk0-b0' });
    expect(nodes.find((b) => b['node-name'] === 'disk0-b0')).toMatchObject({
      driver: 'qcow2',
      file: { driver: 'file', filename: '/data/mid.qcow2', 'read-only': true },
      'read-only': true,
      backing: 'disk0-b1',
    });
    expect(nodes.find((b) => b['node-name'] === 'disk0-b1')).toEqual({
      driver: 'raw',
      file: { driver: 'file', filename: '/data/base.raw', 'read-only': true },
      'node-name': 'disk0-b1',
      'read-only': true,
    });
  });

  it('leaves Hangar’s own overlays to the backing file their header names', () => {
    const argv = buildArgv(
      vm({ disks: [{ id: 'disk0', owned: true, file: 'disk0.qcow2', format: 'qcow2', bus: 'virtio' }] }),
      HOST,
      PATHS,
    );
    expect(blockdevs(argv).find((b) => b['node-name'] === 'disk0')).not.toHaveProperty('backing');
  });
});

describe('firmware selection', () => {
  it('uses the plain UEFI descriptor for uefi and the enrolled one for secure boot', () => {
    const plain = buildArgv(vm({ firmware: 'uefi' }), HOST, PATHS);
    expect(plain.join(' ')).toContain('/usr/share/OVMF/OVMF_CODE_4M.fd');
    expect(plain).not.toContain('driver=cfi.pflash01,property=secure,value=on');
    const secure = buildArgv(vm({ firmware: 'uefi-secure' }), HOST, PATHS);
    expect(secure.join(' ')).toContain('OVMF_CODE_4M.ms.fd');
  });

  it('says to install ovmf when no descriptor fits', () => {
    expect(() => buildArgv(vm({ firmware: 'uefi' }), { ...HOST, firmware: [] }, PATHS)).toThrow(
      /apt-get install ovmf/,
    );
  });
});

describe('shared folder', () => {
  const nics = [
    {
      id: 'nic0',
      model: 'virtio' as const,
      mac: '52:54:00:00:00:01',
      mode: 'lab' as const,
      segment: { lab: 'l', name: 's' },
    },
    { id: 'nic1', model: 'virtio' as const, mac: '52:54:00:00:00:02', mode: 'user' as const },
  ];
  const netdevs = (argv: string[]) =>
    argv.flatMap((a, i) => (argv[i - 1] === '-netdev' ? [JSON.parse(a) as Record<string, unknown>] : []));
  const sandbox = (argv: string[]) => argv[argv.indexOf('-sandbox') + 1];

  it('is served on the first user-mode NIC by smbd with Hangar’s own smb.conf, and only that VM may spawn', () => {
    const path = '/home/u/a,b=c share';
    const argv = buildArgv(vm({ nics, sharedFolder: { path, readOnly: true, over9p: true } }), HOST, PATHS);
    expect(netdevs(argv).map((n) => n.guestfwd)).toEqual([undefined, [smbGuestfwd(PATHS.runDir)]]);
    // The folder reaches smbd through the file, never QEMU's command line (nor QEMU's smb=).
    expect(argv.join(' ')).not.toContain(path);
    expect(netdevs(argv).some((n) => 'smb' in n)).toBe(false);
    // And over virtio-9p when asked: the path one QemuOpts value (commas doubled), read-only as
    // configured, modes kept in xattrs; the last device, so no other changes its PCI slot.
    const fsdev = argv[argv.indexOf('-fsdev') + 1];
    expect(fsdev).toBe(
      'local,id=share9p,path=/home/u/a,,b=c share,security_model=mapped-xattr,multidevs=remap,readonly=on',
    );
    const devicesOf = (a: string[]) => a.flatMap((x, i) => (a[i - 1] === '-device' ? [x] : []));
    expect(devicesOf(argv).at(-1)).toBe('virtio-9p-pci,fsdev=share9p,mount_tag=hangar');
    const smbOnly = buildArgv(
      vm({ nics, sharedFolder: { path, readOnly: true, over9p: false } }),
      HOST,
      PATHS,
    );
    expect(smbOnly).not.toContain('-fsdev');
    expect(devicesOf(smbOnly)).toEqual(devicesOf(argv).slice(0, -1));
    expect(sandbox(argv)).toBe('on,obsolete=deny,elevateprivileges=allow,spawn=allow,resourcecontrol=deny');
  });

  it('leaves the sandbox shut without one', () => {
    const argv = buildArgv(vm({ nics }), HOST, PATHS);
    expect(netdevs(argv).some((n) => 'smb' in n || 'guestfwd' in n)).toBe(false);
    expect(argv).not.toContain('-fsdev');
    expect(sandbox(argv)).toBe('on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny');
  });
});
