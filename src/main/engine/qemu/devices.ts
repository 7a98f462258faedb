// Storage and network devices. Disk files reach QEMU only inside -blockdev JSON with an explicit
// format, so a file name can neither inject options nor make QEMU guess a format from content.
import type { Cdrom, Disk, Nic, VmConfig } from '../../../shared/vm';
import { nicSocket } from '../config/paths';
import { HangarError } from '../../../shared/errors';
import { json, opts } from './escape';

/** Hands out controller slots: q35's built-in AHCI has six ports; pc has two IDE buses of two. */
export class BusAllocator {
  private ahciPort = 0;
  private idePort = 0;
  private scsiAdded = false;
  private extraAhci = false;
  readonly controllers: string[] = [];

  constructor(private readonly q35: boolean) {}

  /** Returns the bus properties for a disk or CD-ROM on the requested bus type. */
  slot(bus: 'sata' | 'ide' | 'scsi'): Record<string, string | number> {
    if (bus === 'scsi') {
      if (!this.scsiAdded) this.controllers.push('-device', 'virtio-scsi-pci,id=scsi0');
      this.scsiAdded = true;
      return { bus: 'scsi0.0' };
    }
    if (this.q35 || bus === 'sata') return this.ahci();
    if (this.idePort >= 4)
      throw new HangarError('INVALID_INPUT', 'The pc machine has room for 4 IDE devices.');
    const n = this.idePort++;
    return { bus: `ide.${Math.floor(n / 2)}`, unit: n % 2 };
  }

  private ahci(): Record<string, string> {
    if (this.ahciPort >= 6)
      throw new HangarError('INVALID_INPUT', 'At most 6 SATA devices fit on one controller.');
    const n = this.ahciPort++;
    if (this.q35) return { bus: `ide.${n}` };
    if (!this.extraAhci) this.controllers.push('-device', 'ich9-ahci,id=sata0');
    this.extraAhci = true;
    return { bus: `sata0.${n}` };
  }
}

function cacheFlags(cache: Disk['cache']): { direct: boolean; noFlush: boolean; writeCache: boolean } {
  return {
    direct: cache === 'none' || cache === 'directsync',
    noFlush: cache === 'unsafe',
    writeCache: cache !== 'writethrough' && cache !== 'directsync',
  };
}

export function diskArgs(
  disk: Disk,
  file: string,
  bootindex: number | undefined,
  buses: BusAllocator,
): string[] {
  const c = cacheFlags(disk.cache);
  const common = {
    'read-only': disk.readOnly,
    discard: disk.discard ? 'unmap' : 'ignore',
    cache: { direct: c.direct, 'no-flush': c.noFlush },
  };
  const fileNode = {
    driver: disk.owned || !disk.blockDevice ? 'file' : 'host_device',
    filename: file,
    'node-name': `${disk.id}-file`,
    ...common,
  };
  const fmtNode: Record<string, unknown> = {
    driver: disk.format,
    file: `${disk.id}-file`,
    'node-name': disk.id,
    ...common,
  };
  const chain: string[] = [];
  // An external qcow2 gets exactly the backing files the user confirmed, or none: whatever its
  // header says now (it may have been rewritten since) adds no file. Hangar's own overlays
  // (baselines, linked clones, disposable runs) keep the backing their header names, which
  // Hangar wrote.
  if (!disk.owned && disk.format === 'qcow2') {
    fmtNode.backing = disk.backingChain.length ? `${disk.id}-b0` : null;
    for (const [i, link] of disk.backingChain.entries()) {
      const name = `${disk.id}-b${i}`;
      const next = disk.backingChain[i + 1];
      const node: Record<string, unknown> = {
        driver: link.format,
        file: { driver: 'file', filename: link.path, 'read-only': true },
        'node-name': name,
        'read-only': true,
      };
      if (link.format === 'qcow2') node.backing = next ? `${disk.id}-b${i + 1}` : null;
      chain.unshift('-blockdev', json(node));
    }
  }
  const dev: Record<string, string | number | boolean | undefined> = { drive: disk.id, id: `${disk.id}-dev` };
  let driver: string;
  if (disk.bus === 'virtio') driver = 'virtio-blk-pci';
  else {
    driver = disk.bus === 'scsi' ? 'scsi-hd' : 'ide-hd';
    Object.assign(dev, buses.slot(disk.bus));
  }
  dev['write-cache'] = c.writeCache ? 'on' : 'off';
  dev.bootindex = bootindex;
  return [...chain, '-blockdev', json(fileNode), '-blockdev', json(fmtNode), '-device', opts(driver, dev)];
}

export function cdromArgs(cd: Cdrom, bootindex: number | undefined, buses: BusAllocator): string[] {
  const args: string[] = [];
  const dev: Record<string, string | number | undefined> = { id: cd.id, ...buses.slot(cd.bus) };
  if (cd.media) {
    const fileNode = { driver: 'file', filename: cd.media, 'node-name': `${cd.id}-file`, 'read-only': true };
    const fmtNode = {
      driver: 'raw',
      file: `${cd.id}-file`,
      'node-name': `${cd.id}-media`,
      'read-only': true,
    };
    args.push('-blockdev', json(fileNode), '-blockdev', json(fmtNode));
    dev.drive = `${cd.id}-media`;
  }
  dev.bootindex = bootindex;
  args.push('-device', opts(cd.bus === 'scsi' ? 'scsi-cd' : 'ide-cd', dev));
  return args;
}

const NIC_DRIVERS: Record<Nic['model'], string> = {
  virtio: 'virtio-net-pci',
  e1000e: 'e1000e',
  rtl8139: 'rtl8139',
};

/** `share`: the guestfwd rule by which this NIC's user-mode network runs smbd (engine/share). */
export function nicArgs(
  nic: Nic,
  bootindex: number | undefined,
  runDir: string,
  share: { str: string } | null = null,
): string[] {
  const hostfwd = nic.portForwards.map((f) => ({
    str: `${f.protocol}:${f.hostAddress}:${f.hostPort}-:${f.guestPort}`,
  }));
  const mcast = nic.segment?.mcast;
  const netdev = mcast
    ? // No switch could run: the segment is a multicast group, reached through loopback only.
      {
        type: 'socket',
        id: `${nic.id}-net`,
        mcast: `${mcast.group}:${mcast.port}`,
        localaddr: '127.0.0.1',
      }
    : nic.segment
      ? // A lab segment: QEMU listens, the lab's switch connects. JSON, so the path is one value.
        {
          type: 'stream',
          id: `${nic.id}-net`,
          server: true,
          addr: { type: 'unix', path: nicSocket(runDir, nic.id) },
        }
      : {
          type: 'user',
          id: `${nic.id}-net`,
          ...(hostfwd.length ? { hostfwd } : {}),
          // Not QEMU's smb= (always read-write): Hangar's own smb.conf, so a share can be read-only.
          ...(share !== null ? { guestfwd: [share] } : {}),
        };
  const dev = { netdev: `${nic.id}-net`, mac: nic.mac, id: nic.id, bootindex };
  return ['-netdev', json(netdev), '-device', opts(NIC_DRIVERS[nic.model], dev)];
}

/** Boot order becomes bootindex values: devices of the first listed kind boot first. */
export function bootIndexes(vm: VmConfig): Map<string, number> {
  const order = new Map<string, number>();
  let next = 1;
  for (const kind of vm.bootOrder) {
    const devices = kind === 'disk' ? vm.disks : kind === 'cdrom' ? vm.cdroms : vm.nics;
    for (const d of devices) order.set(d.id, next++);
  }
  return order;
}
