// One backup's manifest: what it holds, where it sits in its chain, and the size and SHA-256 of
// every file, so verify can name a damaged file and restore can refuse a chain that changed.
// The manifest is read from a folder that may be on an external drive someone else wrote, so it
// is parsed like any untrusted input: file names are plain names, ids match their patterns.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { z } from 'zod';
import { HangarError } from '../../../shared/errors';

export const MANIFEST_FILE = 'manifest.json';
/** The copy of the VM's UEFI variable store in a backup point. */
export const VARS_BACKUP = 'uefi-vars.qcow2';
/** The VM's vm.json as it was, beside the manifest. */
export const CONFIG_COPY = 'vm.json';
export const MANIFEST_FORMAT = 'hangar-backup';
export const MANIFEST_VERSION = 1;

import { BackupId } from '../../../shared/backup';
export { BackupId };
export const ChainId = z.string().regex(/^[0-9a-f]{12}$/, 'Not a chain id.');
/** A file inside one backup folder (or a subfolder of it): no way out of that folder. */
export const BackupFileName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/)
  .refine((f) => !f.split('/').some((p) => p === '.' || p === '..' || p.startsWith('-')));

export const BackupDisk = z.object({
  /** The disk's device id in the VM (disk0), also its QEMU node name. */
  id: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/),
  file: BackupFileName,
  virtualSize: z.number().int().nonnegative(),
  /** The qcow2's backing file as written in its header (../<parent>/disk0.qcow2), or null. */
  backing: z.string().nullable(),
});
export type BackupDisk = z.infer<typeof BackupDisk>;

export const BackupFile = z.object({
  name: BackupFileName,
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type BackupFile = z.infer<typeof BackupFile>;

export const Consistency = z.enum(['frozen', 'crash-consistent']);
export type Consistency = z.infer<typeof Consistency>;

export const Manifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(MANIFEST_VERSION),
  id: BackupId,
  vm: z.object({ id: z.string().regex(/^[a-z0-9]{12}$/), name: z.string().max(200) }),
  /** The VM's vm.json at the time of the backup (parsed again, with new identity, on restore). */
  config: z.record(z.string(), z.unknown()),
  chainId: ChainId,
  kind: z.enum(['full', 'incremental']),
  /** The point this one is built on (its backing files), null for a full. */
  parent: BackupId.nullable(),
  /** Why this backup is a full one when an incremental was possible in principle. */
  fullReason: z.string().max(500).nullable(),
  live: z.boolean(),
  consistency: Consistency,
  /** The VM's current snapshot when the backup was taken (shown; the chain rests on its bitmaps). */
  currentSnapshot: z.string().nullable(),
  hangarVersion: z.string().max(50),
  qemuVersion: z.string().max(50).nullable(),
  startedAt: z.string(),
  completedAt: z.string(),
  disks: z.array(BackupDisk),
  /** UEFI variables (full copy in every point), or null for BIOS VMs. */
  varsFile: BackupFileName.nullable(),
  files: z.array(BackupFile),
  /**
   * Set when the point is encrypted (crypto.ts): its images are LUKS qcow2, its small files are
   * sealed with a key derived with this salt, and `config` leaves out the password hash.
   */
  encryption: z
    .object({ format: z.literal('luks'), salt: z.string().regex(/^[0-9a-f]{32}$/) })
    .nullable()
    .default(null),
});
export type Manifest = z.infer<typeof Manifest>;

/** Reads and checks a manifest; CONFIG_CORRUPT names the file when it is not one of ours. */
export function readManifest(file: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new HangarError(
      'CONFIG_CORRUPT',
      `The backup manifest ${file} cannot be read: ${(err as Error).message}`,
      {
        file,
      },
    );
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new HangarError(
      'CONFIG_CORRUPT',
      `The backup manifest ${file} is not valid (${first?.path.join('.') || 'root'}: ${first?.message}).`,
      { file },
    );
  }
  return parsed.data;
}

/** SHA-256 and size of a file, streamed (disk images do not fit in memory). */
export function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let size = 0;
    const s = createReadStream(path);
    s.on('data', (chunk) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      h.update(b);
    });
    s.on('error', reject);
    s.on('end', () => resolve({ size, sha256: h.digest('hex') }));
  });
}
