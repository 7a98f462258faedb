// The image library's records (engine/images): what a stored image is, where it came from and
// how it was checked. Shared so the CLI and the Library page show the same fields.
import { z } from 'zod';

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'A SHA-256 digest is 64 lowercase hex digits.');

/** An image named by its id, a unique id prefix (at least 6 digits) or its unique name. */
export const ImageRef = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'Name an image by its id, an id prefix or its name.');

export const ImageFormat = z.enum(['qcow2', 'raw', 'iso']);
export type ImageFormat = z.infer<typeof ImageFormat>;

export const ImageMeta = z.object({
  /** SHA-256 of the stored file: the library is content-addressed. */
  id: Sha256,
  name: z.string().min(1).max(200),
  format: ImageFormat,
  virtualSize: z.number().int().nonnegative(),
  fileSize: z.number().int().nonnegative(),
  arch: z.string().max(32).default('x86_64'),
  /** The OS, when known (a catalog entry, osinfo, an ISO's volume id). */
  os: z
    .object({ shortId: z.string().max(64).nullable(), name: z.string().max(200) })
    .nullable()
    .default(null),
  source: z.object({
    kind: z.enum(['file', 'download', 'import']),
    /** The file's path or the URL, as given. */
    from: z.string().max(4096),
    /** The format before conversion (imports). */
    originalFormat: z.string().max(32).nullable().default(null),
    /** The digest the publisher listed and the list it came from (downloads). */
    verified: z
      .object({
        algorithm: z.enum(['sha256', 'sha512']),
        digest: z.string(),
        list: z.string(),
        signed: z.boolean(),
      })
      .nullable()
      .default(null),
  }),
  catalogId: z.string().max(100).nullable().default(null),
  defaultUser: z.string().max(64).nullable().default(null),
  serialConsole: z.boolean().nullable().default(null),
  addedAt: z.string(),
});
export type ImageMeta = z.infer<typeof ImageMeta>;

/** An image and the VMs that use it (as a backing file or a CD), by name. */
export interface ImageEntry extends ImageMeta {
  usedBy: string[];
}

export interface VerifyResult {
  id: string;
  name: string;
  ok: boolean;
  /** The digest the file has now (differs from id when it changed). */
  actual: string;
}

/** One entry of the OS catalog: osinfo-db's identity and defaults, with Hangar's download data. */
export interface CatalogOs {
  shortId: string;
  name: string;
  version: string | null;
  family: string | null;
  vendor: string | null;
  releaseDate: string | null;
  eolDate: string | null;
  recommended: { cpus: number | null; memoryMiB: number | null; diskBytes: number | null };
  minimum: { cpus: number | null; memoryMiB: number | null; diskBytes: number | null };
  virtio: boolean;
  /** Firmware the OS needs or supports ('efi', 'bios'); empty when osinfo does not say. */
  firmware: string[];
  /** Hangar catalog entries that can be pulled for this OS. */
  downloads: string[];
}

/** A downloadable catalog entry as the UI and CLI list it. */
export interface CatalogItem {
  id: string;
  name: string;
  kind: 'cloud' | 'iso';
  url: string;
  checksums: string;
  /** The vendor signs its checksum list. */
  signed: boolean;
  /** Hangar checks that signature (the catalog has the vendor's key); otherwise only the digest. */
  signatureChecked: boolean;
  defaultUser: string | null;
  serialConsole: boolean | null;
  os: CatalogOs | null;
  /** The library image pulled from this entry, if any. */
  pulled: string | null;
}

export interface IsoIdentity {
  /** 'iso' for ISO 9660/UDF media; otherwise what the file looks like. */
  kind: string;
  volumeId: string | null;
  os: CatalogOs | null;
}

/** What an OVA import would make (engine/images/ovf.ts), shown before importing. */
export interface OvaPlan {
  name: string;
  cpus: number | null;
  memoryMiB: number | null;
  firmware: 'bios' | 'uefi';
  disks: { file: string; capacityBytes: number; format: string | null }[];
  nics: string[];
  osType: string | null;
  notHonoured: string[];
}
