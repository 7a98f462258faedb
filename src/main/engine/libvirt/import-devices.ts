// The <devices> of an untrusted domain XML, read into Hangar's disks, CD-ROMs and NICs. Every
// host path passes the host-path policy (and is recorded by its real path); anything outside the
// documented subset (docs/libvirt.md) is named in `dropped`.
import type { BackingLink, Cdrom, Disk, Nic, PortForward } from '../../../shared/vm';
import { CacheMode, MacAddress } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { newMac } from '../config/store';
import { checkHostPath, type PathPolicy } from '../policy/paths';
import { MAX_CHAIN } from '../policy/chain';
import { attr, list, one, type XNode } from './xml';

export interface DeviceContext {
  policy: PathPolicy;
  copyDisks: boolean;
  blockDevices: boolean;
  dropped: string[];
}

/** A device with the boot order libvirt gave it (per-device <boot order>). */
export interface Booted<T> {
  device: T;
  order: number | null;
}

/** Disks to copy into the new VM's directory, from where the XML says they are. */
export interface DiskCopy {
  id: string;
  from: string;
  format: 'qcow2' | 'raw';
  file: string;
  /** The backing chain the XML names (real paths, nearest first): the copy flattens it. */
  backingChain: BackingLink[];
}

const BUSES = new Set(['virtio', 'sata', 'ide', 'scsi']);
const FORMATS = new Set(['qcow2', 'raw']);

function bootOrder(node: XNode): number | null {
  const n = Number(attr(one(node, 'boot'), 'order'));
  return Number.isInteger(n) && n > 0 ? n : null;
}

function label(node: XNode, fallback: string): string {
  return attr(one(node, 'target'), 'dev') ?? fallback;
}

/** The backing chain as the XML names it; an empty <backingStore/> ends it. */
function xmlChain(node: XNode, ctx: DeviceContext, what: string): BackingLink[] {
  const chain: BackingLink[] = [];
  let bs = one(node, 'backingStore');
  while (bs && attr(bs, 'type') !== undefined) {
    if (chain.length >= MAX_CHAIN)
      throw new HangarError('UNSUPPORTED', `${what} has a backing chain deeper than ${MAX_CHAIN} files.`);
    const format = attr(one(bs, 'format'), 'type');
    const file = attr(one(bs, 'source'), 'file');
    if (attr(bs, 'type') !== 'file' || !file || (format !== 'qcow2' && format !== 'raw'))
      throw new HangarError(
        'UNSUPPORTED',
        `${what} is built on a backing file Hangar cannot pin (type ${attr(bs, 'type')}, format ` +
          `${format ?? 'not given'}); only files in qcow2 or raw are used. Flatten it first ` +
          '(qemu-img convert -O qcow2).',
      );
    chain.push({ path: checkHostPath(ctx.policy, file, 'disk image').path, format });
    bs = one(bs, 'backingStore');
  }
  return chain;
}

function driverSettings(node: XNode, what: string, ctx: DeviceContext) {
  const driver = one(node, 'driver');
  const cacheAttr = attr(driver, 'cache');
  const parsed = CacheMode.safeParse(cacheAttr ?? 'writeback');
  if (!parsed.success)
    ctx.dropped.push(`${what}: cache mode '${cacheAttr}' is not one Hangar knows; writeback is used.`);
  for (const a of ['io', 'error_policy', 'iothread', 'detect_zeroes', 'copy_on_read']) {
    const v = attr(driver, a);
    if (v !== undefined) ctx.dropped.push(`${what}: driver ${a}='${v}' (Hangar sets no such option).`);
  }
  return {
    cache: parsed.success ? parsed.data : ('writeback' as const),
    discard: attr(driver, 'discard') === 'unmap',
  };
}

export function readDisk(
  node: XNode,
  index: number,
  ctx: DeviceContext,
  copies: DiskCopy[],
): Booted<Disk> | null {
  const what = `disk ${label(node, String(index))}`;
  const type = attr(node, 'type') ?? 'file';
  const format = attr(one(node, 'driver'), 'type');
  const bus = attr(one(node, 'target'), 'bus') ?? 'virtio';
  if (type !== 'file' && type !== 'block') {
    ctx.dropped.push(`${what}: a ${type} disk; only files and block devices are imported.`);
    return null;
  }
  if (!format || !FORMATS.has(format)) {
    ctx.dropped.push(
      `${what}: format ${format ?? 'not given'}; Hangar uses qcow2 and raw with the format stated, never ` +
        'guessed (convert it: qemu-img convert -O qcow2).',
    );
    return null;
  }
  if (!BUSES.has(bus)) {
    ctx.dropped.push(`${what}: bus ${bus}; Hangar attaches disks on virtio, sata, ide or scsi.`);
    return null;
  }
  const source = one(node, 'source');
  const given = type === 'block' ? attr(source, 'dev') : attr(source, 'file');
  if (!given) {
    ctx.dropped.push(`${what}: no source file.`);
    return null;
  }
  const checked = checkHostPath(ctx.policy, given, 'disk image', { blockDevice: ctx.blockDevices });
  const fmt = format as 'qcow2' | 'raw';
  const id = `disk${index}`;
  const common = {
    id,
    format: fmt,
    bus: bus as Disk['bus'],
    readOnly: one(node, 'readonly') !== undefined,
    ...driverSettings(node, what, ctx),
  };
  if (one(node, 'shareable')) ctx.dropped.push(`${what}: shareable (Hangar never shares a writable disk).`);
  const chain = fmt === 'qcow2' ? xmlChain(node, ctx, what) : [];
  if (ctx.copyDisks && !checked.blockDevice) {
    const file = `${id}.${fmt}`;
    copies.push({ id, from: checked.path, format: fmt, file, backingChain: chain });
    return { device: { ...common, owned: true, file }, order: bootOrder(node) };
  }
  return {
    device: {
      ...common,
      owned: false,
      path: checked.path,
      backingChain: chain,
      blockDevice: checked.blockDevice,
    },
    order: bootOrder(node),
  };
}

export function readCdrom(node: XNode, index: number, ctx: DeviceContext): Booted<Cdrom> | null {
  const what = `CD-ROM ${label(node, String(index))}`;
  const bus = attr(one(node, 'target'), 'bus') ?? 'sata';
  if (bus !== 'sata' && bus !== 'ide' && bus !== 'scsi') {
    ctx.dropped.push(`${what}: bus ${bus}; Hangar's CD-ROMs are on sata, ide or scsi.`);
    return null;
  }
  const file = attr(one(node, 'source'), 'file');
  const type = attr(node, 'type') ?? 'file';
  let media: string | null = null;
  if (file && type === 'file') {
    try {
      media = checkHostPath(ctx.policy, file, 'ISO image').path;
    } catch (err) {
      // An ISO left behind on another host is common; the drive comes over empty. Anything else
      // the policy refuses (Hangar's own files, devices) refuses the import.
      if (!(err instanceof HangarError) || err.code !== 'NOT_FOUND') throw err;
      ctx.dropped.push(`${what}: ${file} does not exist here; the drive is imported empty.`);
    }
  } else if (one(node, 'source')) {
    ctx.dropped.push(`${what}: a ${type} source; the drive is imported empty.`);
  }
  return { device: { id: `cd${index}`, bus, media }, order: bootOrder(node) };
}

const NIC_MODELS: Record<string, Nic['model']> = { virtio: 'virtio', e1000e: 'e1000e', rtl8139: 'rtl8139' };
const MAX_FORWARDS = 64;

function readForwards(node: XNode, what: string, ctx: DeviceContext): PortForward[] {
  const out: PortForward[] = [];
  for (const pf of list(node.portForward)) {
    const proto = attr(pf, 'proto');
    const address = attr(pf, 'address') ?? '0.0.0.0';
    if ((proto !== 'tcp' && proto !== 'udp') || (address !== '127.0.0.1' && address !== '0.0.0.0')) {
      ctx.dropped.push(
        `${what}: port forward ${proto ?? '?'} on ${address}; Hangar forwards tcp/udp from 127.0.0.1 or 0.0.0.0.`,
      );
      continue;
    }
    if (attr(pf, 'dev')) ctx.dropped.push(`${what}: port forward bound to host device ${attr(pf, 'dev')}.`);
    for (const r of list(pf.range)) {
      const start = Number(attr(r, 'start'));
      const end = Number(attr(r, 'end') ?? start);
      const to = Number(attr(r, 'to') ?? start);
      const ok = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
      if (
        attr(r, 'exclude') === 'yes' ||
        !ok(start) ||
        !ok(end) ||
        !ok(to) ||
        end < start ||
        !ok(to + end - start)
      ) {
        ctx.dropped.push(
          `${what}: port range ${attr(r, 'start')}-${attr(r, 'end') ?? ''} (excluded or invalid).`,
        );
        continue;
      }
      for (let p = start; p <= end; p++) {
        if (out.length >= MAX_FORWARDS) {
          ctx.dropped.push(`${what}: port forwards beyond ${MAX_FORWARDS} (from ${proto} ${p}).`);
          return out;
        }
        out.push({ protocol: proto, hostAddress: address, hostPort: p, guestPort: to + (p - start) });
      }
    }
  }
  return out;
}

export function readNic(node: XNode, index: number, ctx: DeviceContext): Booted<Nic> | null {
  const type = attr(node, 'type') ?? 'user';
  const what = `NIC ${index}`;
  if (type === 'hostdev' || type === 'vhostuser' || type === 'vdpa') {
    ctx.dropped.push(`${what}: a ${type} interface (host hardware or a socket) is not imported.`);
    return null;
  }
  if (type !== 'user') {
    const src = one(node, 'source');
    const where = attr(src, 'network') ?? attr(src, 'bridge') ?? attr(src, 'dev') ?? '';
    ctx.dropped.push(
      `${what}: a ${type} interface${where ? ` (${where})` : ''} becomes Hangar's user-mode NAT.`,
    );
  }
  const macGiven = attr(one(node, 'mac'), 'address')?.toLowerCase();
  const mac = macGiven && MacAddress.safeParse(macGiven).success ? macGiven : newMac();
  if (macGiven && mac !== macGiven)
    ctx.dropped.push(`${what}: MAC ${macGiven} is not a usable unicast address; a new one is made.`);
  const modelGiven = attr(one(node, 'model'), 'type');
  let model = modelGiven ? NIC_MODELS[modelGiven] : undefined;
  if (!model) {
    model = modelGiven === 'e1000' ? 'e1000e' : 'virtio';
    ctx.dropped.push(`${what}: model ${modelGiven ?? 'not given'} becomes ${model}.`);
  }
  const portForwards = readForwards(node, what, ctx);
  return {
    device: { id: `nic${index}`, model, mac, mode: 'user', portForwards, segment: null },
    order: bootOrder(node),
  };
}
