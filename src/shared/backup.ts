// Backups (issue 15) as the API sees them: ids, and what create, list and verify answer. The
// engine's implementation lives in src/main/engine/backup.
import { z } from 'zod';
import { AbsolutePath } from './vm';

/**
 * 20261128T134512345Z-a1b2c3 (time to the millisecond, then random): ids of one VM sort in the
 * order the backups were made, safe as a folder name and in messages.
 */
export const BackupId = z.string().regex(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/, 'Not a backup id.');

export type BackupConsistency = 'frozen' | 'crash-consistent';

/**
 * The secret of an encrypted backup: a passphrase, or a key file on the engine's host (the CLI's;
 * the app's page may not name host files). Given to create, it encrypts the new chain.
 */
export const BackupKey = z.union([
  // QEMU takes a LUKS secret as UTF-8 text, which a NUL would end.
  z
    .object({
      passphrase: z
        .string()
        .min(1)
        .max(1024)
        .regex(/^[^\0]+$/, 'A passphrase cannot hold a NUL character.'),
    })
    .strict(),
  z.object({ keyFile: AbsolutePath }).strict(),
]);
export type BackupKey = z.infer<typeof BackupKey>;

/** What create answers and list shows of one backup point. */
interface BackupPoint {
  id: string;
  vmId: string;
  dir: string;
  kind: 'full' | 'incremental';
  chainId: string;
  parent: string | null;
  /** Why this is a full backup (always set for a full). */
  fullReason: string | null;
  consistency: BackupConsistency;
  live: boolean;
  /** LUKS-encrypted disks and sealed small files: restoring it needs the key. */
  encrypted: boolean;
  /** Bytes of this point's own files (an incremental's, not its parents'). */
  size: number;
}

export interface BackupResult extends BackupPoint {
  /** Left-overs of killed backups that were removed first. */
  removedStale: string[];
  warning?: string;
}

export interface BackupListEntry extends BackupPoint {
  vmName: string;
  completedAt: string;
}

export interface BackupList {
  repository: string;
  backups: BackupListEntry[];
  /** Published folders whose manifest cannot be read. */
  broken: { dir: string; error: string }[];
}

export interface BackupVerifyProblem {
  backup: string;
  /** The damaged file's path, or the backup folder when the problem is not one file's. */
  file: string;
  problem: string;
}

export interface BackupVerifyResult {
  backup: string;
  mode: 'quick' | 'full';
  ok: boolean;
  /** The points checked, full first. */
  chain: string[];
  problems: BackupVerifyProblem[];
  /** Full mode: what the point was compared with in the VM itself, or why it was not. */
  source: string | null;
}

export interface BackupPruneResult {
  repository: string;
  vmId: string;
  kept: string[];
  removed: string[];
  /** Points merged into their child before they went: the child now holds their data. */
  merged: { point: string; into: string }[];
  /** Points kept whatever the policy says: a VM made by an instant restore still reads them. */
  held: { point: string; vm: string }[];
  dryRun: boolean;
}

export interface BackupDrillResult {
  backup: string;
  /** The restored VM booted and passed every check in time. */
  ok: boolean;
  checks: string[];
  /** What the checks said, or why the drill failed (with the end of the serial console). */
  detail: string;
  /** The screen when the checks passed (or gave up): the evidence, as a PNG file. */
  screenshot: string | null;
  seconds: number;
}
