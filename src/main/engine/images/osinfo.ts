// The OS catalog's identity and defaults, read from osinfo-db (Debian's `osinfo-db` package puts
// it as plain XML under /usr/share/osinfo): short-ids as virt-install's --os-variant takes them,
// names, release and end-of-life dates, minimum and recommended resources, virtio support,
// firmware, and the volume-id patterns that recognise an install ISO. Parsed once per process.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { CatalogOs } from '../../../shared/images';

export interface OsinfoOs extends Omit<CatalogOs, 'downloads'> {
  id: string;
  shortIds: string[];
  distro: string | null;
  derivesFrom: string | null;
  /** x86_64 (or any-arch) install media: the fields of its primary volume descriptor, as patterns. */
  media: MediaPattern[];
}

/** What osinfo matches an ISO by; every field given must match (libosinfo's rule). */
export interface MediaPattern {
  volume: RegExp;
  system: RegExp | null;
  publisher: RegExp | null;
  application: RegExp | null;
}

/** The identifying fields of an ISO's primary volume descriptor (engine/images/sniff.ts). */
export interface IsoIds {
  volume: string;
  system: string;
  publisher: string;
  application: string;
}

export const OSINFO_DIR = '/usr/share/osinfo';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  isArray: (name) =>
    ['os', 'short-id', 'name', 'vendor', 'resources', 'device', 'media', 'firmware'].includes(name),
});

type Node = Record<string, unknown>;
const arr = (x: unknown): Node[] => (Array.isArray(x) ? (x as Node[]) : x === undefined ? [] : [x as Node]);
/** The text of an element, skipping translations (xml:lang). */
function text(x: unknown): string | null {
  for (const n of Array.isArray(x) ? x : [x]) {
    if (typeof n === 'string' || typeof n === 'number') return String(n);
    if (n && typeof n === 'object' && !('@_xml:lang' in n) && '#text' in n)
      return String((n as Node)['#text']);
  }
  return null;
}
const num = (x: unknown): number | null => {
  const t = text(x);
  return t !== null && /^\d+$/.test(t) ? Number(t) : null;
};

function resources(os: Node, kind: 'minimum' | 'recommended'): CatalogOs['minimum'] {
  const res = arr(os.resources).filter((r) => r['@_arch'] === 'all' || r['@_arch'] === 'x86_64');
  const part = (res.find((r) => r['@_arch'] === 'x86_64') ?? res[0])?.[kind] as Node | undefined;
  if (!part) return { cpus: null, memoryMiB: null, diskBytes: null };
  const ram = num(part.ram);
  return {
    cpus: num(part['n-cpus']),
    memoryMiB: ram === null ? null : Math.round(ram / 1048576),
    diskBytes: num(part.storage),
  };
}

function compile(pattern: string): RegExp | null {
  try {
    return new RegExp(`^${pattern}`, 'i');
  } catch {
    return null;
  }
}

function readOs(os: Node): OsinfoOs {
  const devices = arr((os.devices as Node | undefined)?.device).map((d) => String(d['@_id'] ?? ''));
  const firmware = arr(os.firmware)
    .filter((f) => (f['@_arch'] ?? 'x86_64') === 'x86_64' && f['@_supported'] !== 'false')
    .map((f) => String(f['@_type']));
  const media: MediaPattern[] = [];
  for (const m of arr(os.media)) {
    if (!['x86_64', 'i686', undefined].includes(m['@_arch'] as string | undefined)) continue;
    const iso = m.iso as Node | undefined;
    const field = (name: string) => {
      const t = text(iso?.[name]);
      return t === null ? null : compile(t);
    };
    const volume = field('volume-id');
    if (volume)
      media.push({
        volume,
        system: field('system-id'),
        publisher: field('publisher-id'),
        application: field('application-id'),
      });
  }
  const shortIds = arr(os['short-id'])
    .map((s) => text(s))
    .filter((s): s is string => s !== null);
  return {
    id: String(os['@_id']),
    shortId: shortIds[0] ?? String(os['@_id']),
    shortIds,
    name: text(os.name) ?? String(os['@_id']),
    version: text(os.version),
    family: text(os.family),
    distro: text(os.distro),
    vendor: text(os.vendor),
    releaseDate: text(os['release-date']),
    eolDate: text(os['eol-date']),
    derivesFrom: ((os['derives-from'] ?? os.upgrades) as Node | undefined)?.['@_id']?.toString() ?? null,
    minimum: resources(os, 'minimum'),
    recommended: resources(os, 'recommended'),
    // virtio's PCI vendor (1af4): osinfo lists the virtio devices an OS has drivers for.
    virtio: devices.some((d) => d.includes('/1af4/')),
    firmware,
    media,
  };
}

const cache = new Map<string, OsinfoOs[]>();

export function loadOsinfo(dir = OSINFO_DIR): OsinfoOs[] {
  const known = cache.get(dir);
  if (known) return known;
  const out: OsinfoOs[] = [];
  const osDir = join(dir, 'os');
  if (existsSync(osDir)) {
    for (const vendor of readdirSync(osDir)) {
      let files: string[];
      try {
        files = readdirSync(join(osDir, vendor)).filter((f) => f.endsWith('.xml'));
      } catch {
        continue;
      }
      for (const f of files) {
        try {
          const doc = parser.parse(readFileSync(join(osDir, vendor, f), 'utf8')) as Node;
          for (const os of arr((doc.libosinfo as Node | undefined)?.os)) out.push(readOs(os));
        } catch {
          // One unreadable file does not hide the others.
        }
      }
    }
  }
  // A newer release often lists only what changed: virtio support is inherited from the release
  // it derives from.
  const byId = new Map(out.map((o) => [o.id, o]));
  for (const o of out) {
    let p = o.derivesFrom ? byId.get(o.derivesFrom) : undefined;
    for (let i = 0; !o.virtio && p && i < 20; i++) {
      o.virtio = p.virtio;
      p = p.derivesFrom ? byId.get(p.derivesFrom) : undefined;
    }
  }
  out.sort((a, b) => a.shortId.localeCompare(b.shortId, 'en', { numeric: true }));
  cache.set(dir, out);
  return out;
}

/** By exact short-id (any of an OS's), then by words all found in the name or short-id. */
export function searchOsinfo(query: string, dir = OSINFO_DIR): OsinfoOs[] {
  const all = loadOsinfo(dir);
  const q = query.trim().toLowerCase();
  if (!q) return all;
  const exact = all.filter((o) => o.shortIds.includes(q));
  if (exact.length) return exact;
  const words = q.split(/\s+/);
  return all.filter((o) => {
    const hay = `${o.shortIds.join(' ')} ${o.name} ${o.vendor ?? ''}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export function findOs(shortId: string, dir = OSINFO_DIR): OsinfoOs | null {
  return loadOsinfo(dir).find((o) => o.shortIds.includes(shortId.toLowerCase())) ?? null;
}

/**
 * The OS an install ISO is for: every field a media entry gives must match; the most specific
 * entry (most fields, then the longest volume pattern) wins.
 */
export function osFromIso(ids: IsoIds, dir = OSINFO_DIR): OsinfoOs | null {
  let best: { os: OsinfoOs; score: number } | null = null;
  for (const os of loadOsinfo(dir))
    for (const m of os.media) {
      const extra = [
        [m.system, ids.system],
        [m.publisher, ids.publisher],
        [m.application, ids.application],
      ] as const;
      if (!m.volume.test(ids.volume) || extra.some(([re, v]) => re !== null && !re.test(v))) continue;
      const score = extra.filter(([re]) => re !== null).length * 1000 + m.volume.source.length;
      if (!best || score > best.score) best = { os, score };
    }
  return best?.os ?? null;
}
