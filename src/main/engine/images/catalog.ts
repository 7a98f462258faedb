// Hangar's own catalog: what osinfo-db does not say. Where an image or ISO is published, where
// its checksum list is and whether that list is signed, a cloud image's default user and whether
// its serial console works. URLs point at each vendor's "current"/"latest" folder where one exists,
// so a point release does not break an entry. A user's own entries (or a mirror) go in
// $HANGAR_HOME/catalog.json, a JSON array of the same shape, and replace built-ins of the same id.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { HangarError } from '../../../shared/errors';
import { describeZodError } from '../config/store';

export const CatalogEntry = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,63}$/, 'Catalog ids are lowercase letters, digits, dots and dashes.'),
  name: z.string().min(1).max(200),
  /** osinfo-db short-id, when osinfo knows this OS (the installed osinfo-db may predate it). */
  osinfo: z.string().max(64).nullable().default(null),
  kind: z.enum(['cloud', 'iso']),
  format: z.enum(['qcow2', 'raw', 'iso']),
  url: z.string().url().max(2048),
  /**
   * When set, `url` is a folder and the file is the one the checksum list names that matches this
   * pattern: vendors rename ISOs at each point release, and the list always names the current one.
   */
  pattern: z.string().max(200).nullable().default(null),
  checksums: z.object({
    url: z.string().url().max(2048),
    /** The list is PGP-signed by the vendor (inline or a detached signature next to it). */
    signed: z.boolean().default(false),
    /**
     * Where the catalog has the vendor's key, the signature is checked (gpgv) before the list is
     * used: a detached signature at `url`, or (no url) a clearsigned list. `keyFile` is an OpenPGP
     * public key, absolute or relative to $HANGAR_HOME.
     */
    signature: z
      .object({
        url: z.string().url().max(2048).nullable().default(null),
        keyFile: z.string().min(1).max(4096),
      })
      .nullable()
      .default(null),
  }),
  defaultUser: z.string().max(64).nullable().default(null),
  serialConsole: z.boolean().nullable().default(null),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

const BUILT_IN: z.input<typeof CatalogEntry>[] = [
  {
    id: 'debian-12',
    name: 'Debian 12 (bookworm), generic cloud image',
    kind: 'cloud',
    format: 'qcow2',
    url: 'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2',
    checksums: { url: 'https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS' },
    defaultUser: 'debian',
    serialConsole: true,
  },
  {
    id: 'debian-13',
    name: 'Debian 13 (trixie), generic cloud image',
    kind: 'cloud',
    format: 'qcow2',
    url: 'https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2',
    checksums: { url: 'https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS' },
    defaultUser: 'debian',
    serialConsole: true,
  },
  {
    id: 'debian-13-netinst',
    name: 'Debian 13 (trixie), network installer ISO',
    kind: 'iso',
    format: 'iso',
    url: 'https://cdimage.debian.org/debian-cd/current/amd64/iso-cd/',
    pattern: '^debian-13\\.[0-9.]+-amd64-netinst\\.iso$',
    checksums: { url: 'https://cdimage.debian.org/debian-cd/current/amd64/iso-cd/SHA512SUMS', signed: true },
  },
  {
    id: 'ubuntu-24.04',
    name: 'Ubuntu 24.04 LTS (noble), cloud image',
    osinfo: 'ubuntu24.04',
    kind: 'cloud',
    format: 'qcow2',
    url: 'https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img',
    checksums: { url: 'https://cloud-images.ubuntu.com/noble/current/SHA256SUMS', signed: true },
    defaultUser: 'ubuntu',
    serialConsole: true,
  },
  {
    id: 'ubuntu-22.04',
    name: 'Ubuntu 22.04 LTS (jammy), cloud image',
    osinfo: 'ubuntu22.04',
    kind: 'cloud',
    format: 'qcow2',
    url: 'https://cloud-images.ubuntu.com/jammy/current/jammy-server-cloudimg-amd64.img',
    checksums: { url: 'https://cloud-images.ubuntu.com/jammy/current/SHA256SUMS', signed: true },
    defaultUser: 'ubuntu',
    serialConsole: true,
  },
  {
    id: 'almalinux-9',
    name: 'AlmaLinux 9, generic cloud image',
    osinfo: 'almalinux9',
    kind: 'cloud',
    format: 'qcow2',
    url: 'https://repo.almalinux.org/almalinux/9/cloud/x86_64/images/AlmaLinux-9-GenericCloud-latest.x86_64.qcow2',
    checksums: { url: 'https://repo.almalinux.org/almalinux/9/cloud/x86_64/images/CHECKSUM' },
    defaultUser: 'almalinux',
    serialConsole: true,
  },
  {
    id: 'rocky-9',
    name: 'Rocky Linux 9, generic cloud image',
    osinfo: 'rocky9',
    kind: 'cloud',
    format: 'qcow2',
    url: 'https://dl.rockylinux.org/pub/rocky/9/images/x86_64/Rocky-9-GenericCloud-Base.latest.x86_64.qcow2',
    checksums: {
      url: 'https://dl.rockylinux.org/pub/rocky/9/images/x86_64/Rocky-9-GenericCloud-Base.latest.x86_64.qcow2.CHECKSUM',
    },
    defaultUser: 'rocky',
    serialConsole: true,
  },
  {
    id: 'alpine-3.20',
    name: 'Alpine Linux 3.20, NoCloud image (BIOS, cloud-init)',
    osinfo: 'alpinelinux3.20',
    kind: 'cloud',
    format: 'qcow2',
    url: 'https://dl-cdn.alpinelinux.org/alpine/v3.20/releases/cloud/nocloud_alpine-3.20.3-x86_64-bios-cloudinit-r0.qcow2',
    checksums: {
      url: 'https://dl-cdn.alpinelinux.org/alpine/v3.20/releases/cloud/nocloud_alpine-3.20.3-x86_64-bios-cloudinit-r0.qcow2.sha512',
    },
    defaultUser: 'alpine',
    serialConsole: true,
  },
  {
    id: 'cirros-0.6',
    name: 'CirrOS 0.6.2 (a 20 MiB test cloud image)',
    osinfo: 'cirros0.5.2',
    kind: 'cloud',
    format: 'qcow2',
    url: 'https://download.cirros-cloud.net/0.6.2/cirros-0.6.2-x86_64-disk.img',
    checksums: { url: 'https://download.cirros-cloud.net/0.6.2/SHA256SUMS' },
    defaultUser: 'cirros',
    serialConsole: true,
  },
];

/** The built-in entries, then the user's catalog.json (same id replaces). */
export function loadCatalog(home: string): CatalogEntry[] {
  const byId = new Map<string, CatalogEntry>();
  for (const e of BUILT_IN) byId.set(e.id, CatalogEntry.parse(e));
  const file = join(home, 'catalog.json');
  if (existsSync(file)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new HangarError('INVALID_INPUT', `${file} is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = z.array(CatalogEntry).max(1000).safeParse(raw);
    if (!parsed.success) throw new HangarError('INVALID_INPUT', `${file}: ${describeZodError(parsed.error)}`);
    for (const e of parsed.data) byId.set(e.id, e);
  }
  return [...byId.values()];
}

export function catalogEntry(home: string, id: string): CatalogEntry {
  const all = loadCatalog(home);
  const hit = all.find((e) => e.id === id);
  if (!hit)
    throw new HangarError(
      'NOT_FOUND',
      `No catalog entry "${id}". Known: ${all.map((e) => e.id).join(', ')} (hangar image catalog).`,
    );
  return hit;
}
