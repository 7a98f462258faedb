// Reads an OVF descriptor (the XML inside an OVA) as VMware and VirtualBox write it: the name,
// CPUs, memory (with its AllocationUnits), disks (capacity units, the file each one is), NIC
// models and firmware. What Hangar cannot honour is listed, never dropped in silence. The XML is
// untrusted: a document type (entity definitions) is refused before parsing.
import { XMLParser } from 'fast-xml-parser';
import { HangarError } from '../../../shared/errors';

export interface OvfDisk {
  /** The archive member the disk is in. */
  file: string;
  capacityBytes: number;
  format: string | null;
}

export interface OvfMachine {
  name: string;
  cpus: number | null;
  memoryMiB: number | null;
  firmware: 'bios' | 'uefi';
  disks: OvfDisk[];
  nics: string[];
  osType: string | null;
  /** Files the OVF references, with their declared sizes. */
  files: { id: string; href: string; size: number | null }[];
  notHonoured: string[];
}

type Node = Record<string, unknown>;
const arr = (x: unknown): Node[] => (Array.isArray(x) ? (x as Node[]) : x === undefined ? [] : [x as Node]);
const str = (x: unknown): string | null =>
  x === undefined || x === null ? null : typeof x === 'object' ? str((x as Node)['#text']) : String(x);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  textNodeName: '#text',
  // Only the five XML entities can occur: a document type (custom entities) is refused first.
  processEntities: true,
});

/** "byte * 2^20", "MegaBytes", "KB"... as a multiplier of bytes. */
export function unitBytes(units: string | null): number {
  if (!units) return 1;
  const u = units.replace(/\s+/g, '').toLowerCase();
  const pow = /^byte\*2\^(\d+)$/.exec(u);
  if (pow) return 2 ** Number(pow[1]);
  const named: Record<string, number> = {
    byte: 1,
    bytes: 1,
    kb: 1024,
    kilobytes: 1024,
    mb: 2 ** 20,
    megabytes: 2 ** 20,
    gb: 2 ** 30,
    gigabytes: 2 ** 30,
  };
  const n = named[u];
  if (n === undefined)
    throw new HangarError(
      'INVALID_INPUT',
      `The OVF uses an allocation unit Hangar does not know: "${units}".`,
    );
  return n;
}

const NIC_MODELS: Record<string, string> = {
  e1000: 'e1000e',
  e1000e: 'e1000e',
  virtio: 'virtio',
  vmxnet3: 'virtio',
  pcnet32: 'virtio',
};

/** Every element below `root` with its name, depth-first; bounded, as the XML is untrusted. */
function* elements(root: Node): Generator<{ name: string; node: Node }> {
  const stack: [string, unknown][] = Object.entries(root);
  let seen = 0;
  while (stack.length && seen++ < 100_000) {
    const [name, value] = stack.pop()!;
    if (name.startsWith('@_') || name === '#text') continue;
    for (const node of Array.isArray(value) ? value : [value]) {
      if (!node || typeof node !== 'object') continue;
      yield { name, node: node as Node };
      stack.push(...Object.entries(node as Node));
    }
  }
}

export function parseOvf(xml: string): OvfMachine {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw new HangarError(
      'INVALID_INPUT',
      'The OVF declares a document type; Hangar refuses it (entities could expand without bound).',
    );
  let doc: Node;
  try {
    doc = parser.parse(xml, true) as Node;
  } catch (err) {
    throw new HangarError('INVALID_INPUT', `The OVF is not well-formed XML: ${(err as Error).message}`);
  }
  const env = doc.Envelope as Node | undefined;
  if (!env) throw new HangarError('INVALID_INPUT', 'The OVF has no Envelope element.');
  const notHonoured: string[] = [];
  const files = arr((env.References as Node | undefined)?.File).map((f) => ({
    id: str(f['@_id']) ?? '',
    href: str(f['@_href']) ?? '',
    size: f['@_size'] !== undefined ? Number(f['@_size']) : null,
  }));
  const diskSection = env.DiskSection as Node | undefined;
  const diskDefs = new Map<string, OvfDisk>();
  for (const d of arr(diskSection?.Disk)) {
    const file = files.find((f) => f.id === str(d['@_fileRef']));
    const capacity = Number(str(d['@_capacity']) ?? 'NaN') * unitBytes(str(d['@_capacityAllocationUnits']));
    if (!file) {
      notHonoured.push(`disk ${str(d['@_diskId'])} has no file (an empty disk); it is not created`);
      continue;
    }
    const format = str(d['@_format']);
    diskDefs.set(str(d['@_diskId']) ?? '', {
      file: file.href,
      capacityBytes: Number.isFinite(capacity) ? capacity : 0,
      format: format ? (/streamOptimized/i.test(format) ? 'vmdk (stream-optimized)' : format) : null,
    });
  }
  const systems = arr(env.VirtualSystem).concat(
    arr((env.VirtualSystemCollection as Node | undefined)?.VirtualSystem),
  );
  if (systems.length === 0) throw new HangarError('INVALID_INPUT', 'The OVF describes no virtual system.');
  if (systems.length > 1) notHonoured.push(`${systems.length} virtual systems; only the first is imported`);
  const vs = systems[0]!;
  const hw = vs.VirtualHardwareSection as Node | undefined;
  let cpus: number | null = null;
  let memoryMiB: number | null = null;
  const nics: string[] = [];
  const disks: OvfDisk[] = [];
  for (const item of arr(hw?.Item)) {
    const type = Number(str(item.ResourceType));
    const qty = Number(str(item.VirtualQuantity));
    if (type === 3) cpus = qty;
    else if (type === 4) memoryMiB = Math.round((qty * unitBytes(str(item.AllocationUnits))) / 2 ** 20);
    else if (type === 10) {
      const model = (str(item.ResourceSubType) ?? 'e1000').toLowerCase();
      const mapped = NIC_MODELS[model];
      if (!mapped || mapped !== model)
        notHonoured.push(`NIC model ${model}: ${mapped ?? 'virtio'} is used instead`);
      nics.push(mapped ?? 'virtio');
    } else if (type === 17) {
      const ref = (str(item.HostResource) ?? '').replace(/^(ovf:)?\/(disk|file)\//, '');
      const d = diskDefs.get(ref);
      if (d) disks.push(d);
    } else if (type === 15 || type === 16) {
      // CD/DVD drives are recreated empty.
    } else if ([1, 5, 6, 20, 14, 35, 24, 23].includes(type)) {
      // Controllers, USB, sound and video: Hangar picks its own.
    }
  }
  // VMware: <vmw:Config vmw:key="firmware" vmw:value="efi"/>; VirtualBox: <Firmware type="EFI"/>.
  // Read from the parsed elements (never by a pattern over the raw text, which a hostile OVF
  // could make take hours): VMware's Config key/value pairs, VirtualBox's Firmware type.
  const config = new Map<string, string>();
  let firmwareType = '';
  for (const n of elements(vs)) {
    if (n.name === 'Config')
      config.set(String(n.node['@_key'] ?? '').toLowerCase(), String(n.node['@_value'] ?? '').toLowerCase());
    if (n.name === 'Firmware') firmwareType = String(n.node['@_type'] ?? '').toLowerCase();
  }
  const uefi = config.get('firmware') === 'efi' || firmwareType.startsWith('efi');
  if (config.get('uefi.secureboot.enabled') === 'true')
    notHonoured.push(
      'Secure Boot: the VM uses UEFI without it; turn it on in settings if the guest needs it',
    );
  const os = vs.OperatingSystemSection as Node | undefined;
  const osType = str(os?.['@_osType']) ?? str(os?.Description);
  const name = str((vs as Node).Name) ?? str(vs['@_id']) ?? 'imported';
  return { name, cpus, memoryMiB, firmware: uefi ? 'uefi' : 'bios', disks, nics, osType, files, notHonoured };
}
