// Retention: which backup points a policy keeps (the newest N, the newest of each of the last N
// days, of each of the last N ISO weeks, as restic and borg count them; days and weeks in UTC),
// and removing the others without breaking a chain. A point that a kept point is built on is
// merged into that child first (qemu-img rebase onto the point's own parent, or a flatten when
// it is a full), so every kept point restores to exactly what it held before.
//
// A merge is made crash-safe by a journal: the rebased copy is written and hashed beside the
// child's file, the journal (the new manifest and the renames still to do) is written whole, and
// only then are files renamed and the old point removed. Whatever is interrupted, the next prune
// of that VM finishes from the journal; before the journal exists, nothing visible has changed.
import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { BackupPruneResult } from '../../../shared/backup';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { writeFileAtomic, fsyncDir } from '../config/atomic';
import type { EngineContext } from '../context';
import { Manifest, MANIFEST_FILE, hashFile, type Manifest as ManifestT } from './manifest';
import { chainOf, listBackups, repositoryPath, TMP_PREFIX, vmFolder, type ListedBackup } from './repository';
import { hashProblems, headerProblems } from './verify';
import { chainImage, explainKey, LUKS_CREATE, retryLuksTiming, withKeyArgs } from './crypto';

export interface KeepPolicy {
  last?: number;
  daily?: number;
  weekly?: number;
}

export type PruneResult = BackupPruneResult;

const JOURNAL = '.prune-journal.json';
const MERGE_PREFIX = '.merge-';

/** ISO 8601 week of a UTC date, as "2026-W48". */
export function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** The ids a policy keeps, of points given with their completion time. */
export function selectKept(points: { id: string; completedAt: string }[], keep: KeepPolicy): Set<string> {
  const newest = [...points].sort((a, b) => b.id.localeCompare(a.id));
  const kept = new Set<string>();
  newest.slice(0, keep.last ?? 0).forEach((p) => kept.add(p.id));
  const byPeriod = (n: number | undefined, period: (d: Date) => string) => {
    const seen = new Set<string>();
    for (const p of newest) {
      if (seen.size >= (n ?? 0)) break;
      const key = period(new Date(p.completedAt));
      if (seen.has(key)) continue;
      seen.add(key);
      kept.add(p.id);
    }
  };
  byPeriod(keep.daily, (d) => d.toISOString().slice(0, 10));
  byPeriod(keep.weekly, isoWeek);
  return kept;
}

const Journal = z.object({
  /** The child's folder name (a backup id) and its renames, tmp name to final name. */
  child: z.string(),
  renames: z.array(z.tuple([z.string(), z.string()])),
  manifest: Manifest,
  /** The merged point's folder name, removed last (after its last child's merge), or null. */
  remove: z.string().nullable(),
});
type Journal = z.infer<typeof Journal>;

/** Removes a point's folder: one rename makes it unlisted, then it is deleted. */
function removePoint(folder: string, id: string): void {
  const dir = join(folder, id);
  if (!existsSync(dir)) return;
  const gone = join(folder, `${TMP_PREFIX}pruned-${id}`);
  renameSync(dir, gone);
  fsyncDir(folder);
  rmSync(gone, { recursive: true, force: true });
}

/** Carries a journal out; each step may already have been done by an interrupted run. */
function commit(folder: string, j: Journal): void {
  const dir = join(folder, j.child);
  for (const [tmp, final] of j.renames)
    if (existsSync(join(dir, tmp))) renameSync(join(dir, tmp), join(dir, final));
  fsyncDir(dir);
  writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(j.manifest, null, 2)}\n`);
  if (j.remove) removePoint(folder, j.remove);
  rmSync(join(folder, JOURNAL), { force: true });
  fsyncDir(folder);
}

/** Finishes a merge an earlier prune left, or clears the copies it made before its journal. */
export function recoverPrune(folder: string): boolean {
  const file = join(folder, JOURNAL);
  if (existsSync(file)) {
    let raw: unknown = null;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // Reported below as damaged.
    }
    const parsed = Journal.safeParse(raw);
    if (!parsed.success)
      throw new HangarError('CONFIG_CORRUPT', `${file} is damaged; move it away and verify the backups.`);
    commit(folder, parsed.data);
    return true;
  }
  if (!existsSync(folder)) return false;
  for (const point of readdirSync(folder)) {
    const dir = join(folder, point);
    if (point.startsWith('.') || !existsSync(join(dir, MANIFEST_FILE))) continue;
    for (const f of readdirSync(dir)) if (f.startsWith(MERGE_PREFIX)) rmSync(join(dir, f), { force: true });
  }
  return false;
}

/** Merges `point` into its child: the child's disks rebased onto the point's parent (or flattened). */
async function mergeInto(
  engine: EngineContext,
  repo: string,
  folder: string,
  point: ListedBackup,
  child: ListedBackup,
  last: boolean,
  key: Buffer | null,
): Promise<ListedBackup> {
  // The whole chain is checked, bytes and headers, as a restore does: the merge reads all of it,
  // and writes new hashes for the child, which would otherwise bless damage it copied in.
  for (const b of chainOf(repo, child)) {
    const problems = [...(await hashProblems(b)), ...(await headerProblems(engine, b))];
    if (problems.length)
      throw new HangarError(
        'CONFIG_CORRUPT',
        `Backup ${b.manifest.id} is damaged, so nothing was pruned: ${problems.map((p) => `${p.file}: ${p.problem}`).join('; ')}. ` +
          'Check it with hangar backup verify.',
      );
  }
  const p = point.manifest;
  const c = child.manifest;
  // An encrypted child is flattened whole (qemu-img rebase cannot be given the key of the
  // files it reads): it becomes a full point holding exactly what it held.
  const flatten = c.encryption !== null;
  if (flatten && !key)
    throw new HangarError(
      'INVALID_INPUT',
      `Backup ${c.id} is encrypted and built on ${p.id}, which the policy removes: give the key ` +
        '(--passphrase-file FILE or --key-file FILE) so it can be rewritten, or keep more points.',
    );
  const below = chainOf(repo, child).reverse();
  const renames: [string, string][] = [];
  const files = new Map(c.files.map((f) => [f.name, f]));
  const disks = [];
  for (const d of c.disks) {
    if (!p.disks.some((x) => x.id === d.id && x.file === d.file))
      throw new HangarError(
        'CONFIG_CORRUPT',
        `Backup ${c.id} has disk ${d.id}, its parent ${p.id} does not.`,
      );
    const backing = p.parent && !flatten ? `../${p.parent}/${d.file}` : null;
    const tmp = `${MERGE_PREFIX}${d.file}`;
    const tmpPath = join(child.dir, tmp);
    try {
      if (flatten) await flattenEncrypted(engine, below, d.file, tmpPath, key!);
      else {
        copyFileSync(join(child.dir, d.file), tmpPath);
        // Safe mode (no -u): the clusters the old backing held and the new one does not are copied in.
        await engine.img.run(
          ['rebase', '-f', 'qcow2', '-b', backing ?? '', ...(backing ? ['-F', 'qcow2'] : []), tmpPath],
          60 * 60_000,
        );
      }
      await engine.failpoint('prune:rebased');
      files.set(d.file, { name: d.file, ...(await hashFile(tmpPath)) });
    } catch (err) {
      // Before the journal nothing counts: the copies go (a full disk must not keep them).
      for (const f of [...renames.map(([t]) => t), tmp]) rmSync(join(child.dir, f), { force: true });
      throw err;
    }
    renames.push([tmp, d.file]);
    disks.push({ ...d, backing });
  }
  const manifest: ManifestT = {
    ...c,
    kind: p.parent && !flatten ? 'incremental' : 'full',
    parent: flatten ? null : p.parent,
    fullReason: flatten
      ? `backup ${p.id} it was built on was pruned, and an encrypted point is flattened in its place`
      : p.parent
        ? c.fullReason
        : `the full backup ${p.id} it was built on was pruned into it`,
    disks,
    files: c.files.map((f) => files.get(f.name) ?? f),
  };
  const journal: Journal = { child: c.id, renames, manifest, remove: last ? p.id : null };
  writeFileAtomic(join(folder, JOURNAL), JSON.stringify(journal));
  await engine.failpoint('prune:journal');
  commit(folder, journal);
  return { dir: child.dir, manifest };
}

/** The child's image read through its whole chain, written encrypted with no backing file. */
async function flattenEncrypted(
  engine: EngineContext,
  chain: ListedBackup[],
  file: string,
  out: string,
  key: Buffer,
): Promise<void> {
  const image = chainImage(
    chain.map((b) => join(b.dir, file)),
    true,
  );
  await withKeyArgs(engine, key, (secret) =>
    retryLuksTiming(async () => {
      rmSync(out, { force: true });
      await engine.img.run(
        ['convert', '-q', ...secret, '-O', 'qcow2', '-o', LUKS_CREATE, image, out],
        60 * 60_000,
      );
    }),
  ).catch((err: unknown) => {
    throw explainKey(err, `backup ${chain[0]!.manifest.id}`);
  });
}

export async function pruneBackups(
  engine: EngineContext,
  vm: string,
  keep: KeepPolicy,
  options: { repository?: string | null; dryRun?: boolean; key?: Buffer | null } = {},
): Promise<PruneResult> {
  if (!keep.last && !keep.daily && !keep.weekly)
    throw new HangarError(
      'INVALID_INPUT',
      'Say what to keep (--keep-last N, --keep-daily N or --keep-weekly N, at least one of them 1 or more); prune never removes every backup.',
    );
  const repo = repositoryPath(engine, options.repository);
  // A deleted VM keeps its backups: its id is used as it is.
  let vmId: string;
  let claim: string;
  try {
    vmId = engine.resolve(vm).id;
    claim = vmId;
  } catch (err) {
    if (!/^[a-z0-9]{12}$/.test(vm)) throw err;
    vmId = vm;
    claim = `backups:${vm}`;
  }
  const folder = vmFolder(repo, vmId);
  return engine.withLocks([{ key: claim, mode: 'write' }], 'prune backups', async () => {
    if (!options.dryRun) recoverPrune(folder);
    const listing = listBackups(repo, vmId);
    // A point whose manifest cannot be read may be built on any other: removing one could orphan it.
    if (listing.broken.length)
      throw new HangarError(
        'CONFIG_CORRUPT',
        `Nothing was pruned: ${listing.broken.map((b) => `${b.dir}: ${b.error}`).join('; ')}. Repair or move that folder away first.`,
      );
    const points = new Map(listing.backups.map((b) => [b.manifest.id, b]));
    const kept = selectKept(
      [...points.values()].map((b) => ({ id: b.manifest.id, completedAt: b.manifest.completedAt })),
      keep,
    );
    const held = heldByInstantRestores(engine, repo, points);
    for (const id of held.keys()) kept.add(id);
    const removed = [...points.keys()].filter((id) => !kept.has(id));
    const merged: { point: string; into: string }[] = [];
    // Newest first: a removed point's child is then always a point that stays (or was merged into one).
    for (const id of [...removed].sort().reverse()) {
      const point = points.get(id)!;
      const children = [...points.values()].filter((b) => b.manifest.parent === id);
      for (const [n, child] of children.entries()) {
        merged.push({ point: id, into: child.manifest.id });
        points.set(
          child.manifest.id,
          options.dryRun
            ? { ...child, manifest: { ...child.manifest, parent: point.manifest.parent } }
            : await mergeInto(
                engine,
                repo,
                folder,
                point,
                child,
                n === children.length - 1,
                options.key ?? null,
              ),
        );
      }
      if (!options.dryRun && children.length === 0) removePoint(folder, id);
      points.delete(id);
    }
    return {
      repository: repo,
      vmId,
      kept: [...kept].sort(),
      removed,
      merged,
      held: [...held].map(([point, vm]) => ({ point, vm })).sort((x, y) => x.point.localeCompare(y.point)),
      dryRun: options.dryRun === true,
    };
  });
}

function sameFolder(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}

/**
 * Points a VM made by an instant restore still reads (the point and the points under it), with
 * that VM's name: they stay until its data is streamed in, whatever the policy says.
 */
function heldByInstantRestores(
  engine: EngineContext,
  repo: string,
  points: Map<string, ListedBackup>,
): Map<string, string> {
  const held = new Map<string, string>();
  for (const id of engine.store.ids()) {
    let c: VmConfig;
    try {
      c = engine.store.load(id);
    } catch {
      continue;
    }
    const from = c.instantRestore;
    if (!from || !sameFolder(from.repository, repo)) continue;
    for (
      let p = points.get(from.backup);
      p;
      p = p.manifest.parent ? points.get(p.manifest.parent) : undefined
    )
      held.set(p.manifest.id, c.name);
  }
  return held;
}
