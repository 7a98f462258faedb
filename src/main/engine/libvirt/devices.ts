// Disks, CD-ROMs and NICs as libvirt <devices> children, mapped like the QEMU argv builder maps
// them (qemu/devices.ts): the same buses (IDE lands on the AHCI controller on q35, as there), the
// same boot order, explicit formats, and pinned backing chains for external qcow2 images.
import type { Cdrom, Disk, Nic, VmConfig } from '../../../shared/vm';
import type { XNode } from './xml';

/** How a user-mode (NAT) NIC reaches libvirt; see docs/libvirt.md. */
export type UserNet = 'passt' | 'slirp' | { network: string };

/** Target names: vda, vdb... then vdaa after vdz, as libvirt counts them. */
export function targetName(prefix: string, index: number): string {
  let n = index;
  let s = '';
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return prefix + s;
}

type Bus = Disk['bus'];

/** Hands out target names per prefix; sata and scsi share "sd", like libvirt's own naming. */
export class Targets {
  private readonly used = new Map<string, number>();
  constructor(private readonly q35: boolean) {}

  /** The libvirt bus for a Hangar bus: q35 has no IDE, and Hangar puts IDE devices on its AHCI. */
  bus(bus: Bus): Bus {
    return bus === 'ide' && this.q35 ? 'sata' : bus;
  }

  next(bus: Bus): { dev: string; bus: Bus } {
    const b = this.bus(bus);
    const prefix = b === 'virtio' ? 'vd' : b === 'ide' ? 'hd' : 'sd';
    const n = this.used.get(prefix) ?? 0;
    this.used.set(prefix, n + 1);
    return { dev: targetName(prefix, n), bus: b };
  }
}

function backingStore(chain: Extract<Disk, { owned: false }>['backingChain']): XNode {
  // Innermost first: each link wraps the next; a qcow2 at the bottom is closed with an empty
  // <backingStore/> so libvirt opens no file its header might name.
  let inner: XNode | undefined;
  for (let i = chain.length - 1; i >= 0; i--) {
    const link = chain[i]!;
    const node: XNode = {
      '@_type': 'file',
      format: { '@_type': link.format },
      source: { '@_file': link.path },
    };
    if (link.format === 'qcow2') node.backingStore = inner ?? {};
    inner = node;
  }
  return inner ?? {};
}

export function diskNode(disk: Disk, vmDir: string, targets: Targets, bootOrder?: number): XNode {
  const block = !disk.owned && disk.blockDevice;
  const path = disk.owned ? `${vmDir}/${disk.file}` : disk.path;
  const node: XNode = {
    '@_type': block ? 'block' : 'file',
    '@_device': 'disk',
    driver: {
      '@_name': 'qemu',
      '@_type': disk.format,
      '@_cache': disk.cache,
      '@_discard': disk.discard ? 'unmap' : 'ignore',
    },
    source: block ? { '@_dev': path } : { '@_file': path },
  };
  // An external qcow2 gets exactly its confirmed chain (possibly none), as on Hangar's own argv.
  if (!disk.owned && disk.format === 'qcow2') node.backingStore = backingStore(disk.backingChain);
  const t = targets.next(disk.bus);
  node.target = { '@_dev': t.dev, '@_bus': t.bus };
  if (disk.readOnly) node.readonly = '';
  if (bootOrder !== undefined) node.boot = { '@_order': bootOrder };
  return node;
}

export function cdromNode(cd: Cdrom, targets: Targets, bootOrder?: number): XNode {
  const node: XNode = {
    '@_type': 'file',
    '@_device': 'cdrom',
    driver: { '@_name': 'qemu', '@_type': 'raw' },
  };
  if (cd.media) node.source = { '@_file': cd.media };
  const t = targets.next(cd.bus);
  node.target = { '@_dev': t.dev, '@_bus': t.bus };
  node.readonly = '';
  if (bootOrder !== undefined) node.boot = { '@_order': bootOrder };
  return node;
}

function forwardText(f: Nic['portForwards'][number]): string {
  return `${f.protocol} ${f.hostAddress}:${f.hostPort} -> guest ${f.guestPort}`;
}

/** One NIC, or null when it cannot be expressed; what is lost goes into `dropped`. */
export function nicNode(nic: Nic, userNet: UserNet, dropped: string[], bootOrder?: number): XNode | null {
  if (nic.mode === 'lab') {
    dropped.push(
      `NIC ${nic.id}: a port on Hangar's lab segment ${nic.segment?.lab}/${nic.segment?.name}; libvirt ` +
        "has no equivalent of Hangar's lab switch, so this NIC is not exported (attach it to a libvirt network by hand).",
    );
    return null;
  }
  const node: XNode = { '@_type': userNet === 'passt' || userNet === 'slirp' ? 'user' : 'network' };
  node.mac = { '@_address': nic.mac };
  if (typeof userNet === 'object') node.source = { '@_network': userNet.network };
  node.model = { '@_type': nic.model };
  if (userNet === 'passt') {
    node.backend = { '@_type': 'passt' };
    if (nic.portForwards.length)
      node.portForward = nic.portForwards.map((f) => ({
        '@_proto': f.protocol,
        // Without an address passt listens on every address, which is what 0.0.0.0 means to Hangar.
        ...(f.hostAddress === '0.0.0.0' ? {} : { '@_address': f.hostAddress }),
        range: { '@_start': f.hostPort, '@_to': f.guestPort },
      }));
  } else {
    const why =
      userNet === 'slirp'
        ? "libvirt's built-in user networking (SLIRP) has no port forwards; export with the passt backend where the host's libvirt accepts it"
        : `NIC ${nic.id} is on libvirt network '${userNet.network}' (user-mode NAT with port forwards is not expressible there)`;
    for (const f of nic.portForwards) dropped.push(`NIC ${nic.id}: port forward ${forwardText(f)}: ${why}.`);
    if (typeof userNet === 'object')
      dropped.push(
        `NIC ${nic.id}: Hangar's user-mode NAT becomes libvirt network '${userNet.network}' (the guest gets that network's addresses).`,
      );
  }
  if (bootOrder !== undefined) node.boot = { '@_order': bootOrder };
  return node;
}

/** True when the machine type is a q35 one (an alias or a versioned name). */
export function isQ35(vm: Pick<VmConfig, 'machine'>): boolean {
  return vm.machine.includes('q35');
}
