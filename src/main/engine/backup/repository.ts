// A backup repository is a folder: <repo>/<vm-id>/<backup-id>/ holds one backup (its disks as
// qcow2, manifest.json, vm.json). A backup is written under <vm-id>/.tmp-<backup-id> and made to
// exist by one rename when it is complete, so a killed backup never appears in a listing; what a
// killed one left behind is removed by the next backup of that VM.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { HangarError } from '../../../shared/errors';
import { fsyncDir } from '../config/atomic';
import type { PathPolicy } from '../policy/paths';
import { BackupId, MANIFEST_FILE, readManifest, type Manifest } from './manifest';

export const DEFAULT_REPOSITORY = 'backups';
export const TMP_PREFIX = '.tmp-';
const VM_ID = /^[a-z0-9]{12}$/;

export interface RepoContext {
  readonly home: string;
  readonly policy: PathPolicy;
}

function inside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The repository folder to use: $HANGAR_HOME/backups by default (made when missing), or a folder
 * the user names. A named folder follows the host-path policy's rules for a path from outside:
 * absolute, symlinks resolved (the real path is what is used), an existing directory, and never
 * inside Hangar's own data or runtime folders except the default repository itself.
 */
export function repositoryPath(ctx: RepoContext, given?: string | null): string {
  const fallback = join(ctx.home, DEFAULT_REPOSITORY);
  if (!given) {
    mkdirSync(fallback, { recursive: true, mode: 0o700 });
    return realpathSync(fallback);
  }
  if (!given.startsWith('/') || given.includes('\0'))
    throw new HangarError('INVALID_INPUT', `The backup repository path must be absolute: "${given}".`);
  let real: string;
  try {
    real = realpathSync(given);
  } catch {
    throw new HangarError(
      'NOT_FOUND',
      `The backup repository ${given} does not exist. Make the folder first.`,
      {
        path: given,
      },
    );
  }
  if (!lstatSync(real).isDirectory())
    throw new HangarError('INVALID_INPUT', `The backup repository ${given} is not a folder.`, {
      path: given,
    });
  mkdirSync(fallback, { recursive: true, mode: 0o700 });
  const defaultReal = realpathSync(fallback);
  if (!inside(real, defaultReal)) {
    for (const root of ctx.policy.protectedRoots) {
      if (inside(real, root) || inside(root, real)) {
        throw new HangarError(
          'INVALID_INPUT',
          `${given} overlaps Hangar's own data (${root}); choose a folder outside it, or the default repository.`,
          { path: given, real },
        );
      }
    }
  }
  return real;
}

/** The folder of one VM's backups in a repository. */
export function vmFolder(repo: string, vmId: string): string {
  if (!VM_ID.test(vmId)) throw new HangarError('INVALID_INPUT', `Not a VM id: "${vmId}".`);
  return join(repo, vmId);
}

/**
 * A new id that sorts after `after` (the VM's newest backup), also when the clock was set back
 * since: the newest point of a chain is found by this order.
 */
export function newBackupId(now = new Date(), after: string | null = null): string {
  let ms = now.getTime();
  const m = after ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(after) : null;
  if (m) {
    const prev = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!);
    if (ms <= prev) ms = prev + 1;
  }
  const stamp = new Date(ms).toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export interface ListedBackup {
  dir: string;
  manifest: Manifest;
}

export interface Listing {
  backups: ListedBackup[];
  /** Published folders whose manifest cannot be read: shown, never used as a chain's base. */
  broken: { dir: string; error: string }[];
}

/** The published backups of one VM (oldest first), or of every VM when vmId is null. */
export function listBackups(repo: string, vmId: string | null = null): Listing {
  const out: Listing = { backups: [], broken: [] };
  const vms = vmId ? [vmId] : existsSync(repo) ? readdirSync(repo).filter((d) => VM_ID.test(d)) : [];
  for (const vm of vms) {
    const folder = vmFolder(repo, vm);
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder).sort()) {
      // .tmp-* folders are backups being written, or left by a killed one: never listed.
      if (!BackupId.safeParse(name).success) continue;
      const dir = join(folder, name);
      try {
        const manifest = readManifest(join(dir, MANIFEST_FILE));
        if (manifest.id !== name || manifest.vm.id !== vm)
          throw new Error(`its manifest names backup ${manifest.id} of VM ${manifest.vm.id}`);
        out.backups.push({ dir, manifest });
      } catch (err) {
        out.broken.push({ dir, error: (err as Error).message });
      }
    }
  }
  out.backups.sort((a, b) => a.manifest.id.localeCompare(b.manifest.id));
  return out;
}

/** Finds one published backup by id, in the given VM's folder or in any. */
export function findBackup(repo: string, backupId: string, vmId: string | null = null): ListedBackup {
  if (!BackupId.safeParse(backupId).success)
    throw new HangarError(
      'INVALID_INPUT',
      `"${backupId}" is not a backup id (like 20261128T134512345Z-a1b2c3).`,
    );
  const listing = listBackups(repo, vmId);
  const hit = listing.backups.find((b) => b.manifest.id === backupId);
  if (hit) return hit;
  const broken = listing.broken.find((b) => b.dir.endsWith(`${sep}${backupId}`));
  if (broken)
    throw new HangarError('CONFIG_CORRUPT', `Backup ${backupId} cannot be used: ${broken.error}`, {
      dir: broken.dir,
    });
  throw new HangarError('NOT_FOUND', `There is no backup ${backupId} in ${repo}.`);
}

/** The chain of a backup, from its full to itself. */
export function chainOf(repo: string, leaf: ListedBackup): ListedBackup[] {
  const chain = [leaf];
  let cur = leaf;
  while (cur.manifest.parent) {
    const parent = findBackup(repo, cur.manifest.parent, cur.manifest.vm.id);
    if (parent.manifest.chainId !== leaf.manifest.chainId)
      throw new HangarError('CONFIG_CORRUPT', `Backup ${cur.manifest.id} names a parent of another chain.`);
    chain.unshift(parent);
    cur = parent;
    if (chain.length > 1000) throw new HangarError('CONFIG_CORRUPT', 'The backup chain loops.');
  }
  return chain;
}

/** Removes what killed backups left in this VM's folder (call with the VM's lock held). */
export function removeStale(folder: string): string[] {
  if (!existsSync(folder)) return [];
  const stale = readdirSync(folder).filter((d) => d.startsWith(TMP_PREFIX));
  for (const d of stale) rmSync(join(folder, d), { recursive: true, force: true });
  return stale;
}

/**
 * What killed backups left anywhere in a repository, as "<vm-id>/.tmp-<id>". Only for a folder
 * no other engine writes: the default repository at engine open, under the engine lock.
 */
export function removeStaleAll(repo: string): string[] {
  if (!existsSync(repo)) return [];
  return readdirSync(repo)
    .filter((d) => VM_ID.test(d))
    .flatMap((vm) => removeStale(join(repo, vm)).map((d) => `${vm}/${d}`));
}

/** Makes the folder a backup is written into. */
export function stageBackup(repo: string, vmId: string, backupId: string): string {
  const folder = vmFolder(repo, vmId);
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const dir = join(folder, TMP_PREFIX + backupId);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** Makes a complete backup exist: one rename, then the folder's entry made durable. */
export function publishBackup(staged: string, repo: string, vmId: string, backupId: string): string {
  const folder = vmFolder(repo, vmId);
  const dir = join(folder, backupId);
  if (existsSync(dir)) throw new HangarError('CONFLICT', `Backup ${backupId} exists already.`);
  fsyncDir(staged);
  renameSync(staged, dir);
  fsyncDir(folder);
  return dir;
}
