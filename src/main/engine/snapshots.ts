// Snapshots: QMP jobs while the VM runs (RAM included), qemu-img while it is stopped (disks
// only). The qcow2 images are the truth for which snapshots exist; vm.json holds names,
// descriptions and the tree, and listing reconciles the two.
import { refuseWhileStreaming } from './backup/instant-guard';
import { randomBytes } from 'node:crypto';
import { statSync, statfsSync } from 'node:fs';
import { formatSize } from './storage/size';
import { snapshotUsage } from './storage/qcow2-usage';
import type { SnapshotMeta, VmConfig } from '../../shared/vm';
import { HangarError } from '../../shared/errors';
import { diskPath } from './qemu/argv';
import type { EngineContext } from './context';
import { runJob } from './jobs';
import { withFrozenGuest } from './agent';
import { hardwareOf } from './snapshot-hardware';
import { captureScreen, dropThumbnail, hasThumbnail, keepThumbnail } from './snapshot-thumbnail';

export interface SnapshotListEntry extends SnapshotMeta {
  current: boolean;
  /** Images that lack this snapshot (it cannot be reverted to); empty when whole. */
  missingIn: string[];
  /** Bytes of guest RAM saved with it, over all images (0: disks only). */
  ramBytes: number;
  /** Bytes only this snapshot holds, over all images, its RAM included: what deleting it gives
   * back. null when an image could not be read (qcow2-usage.ts). */
  ownBytes: number | null;
  /** A picture of the screen at that moment is kept (snapshot.thumbnail). */
  thumbnail: boolean;
}

export interface Image {
  node: string;
  path: string;
}

/** Every writable image a snapshot must cover, the UEFI variables included. */
export function images(engine: EngineContext, config: VmConfig): Image[] {
  const { vmDir, varsFile } = engine.paths(config.id);
  const writable = config.disks.filter((d) => !d.readOnly);
  const raw = writable.filter((d) => d.format !== 'qcow2');
  if (raw.length) {
    throw new HangarError(
      'UNSUPPORTED',
      `Disk ${raw.map((d) => d.id).join(', ')} is raw, and raw images cannot hold snapshots. ` +
        'Convert it to qcow2 (hangar disk convert VM DISK qcow2) or mark it read-only.',
    );
  }
  const list = writable.map((d) => ({ node: d.id, path: diskPath(config, d, vmDir) }));
  if (config.firmware !== 'bios') list.push({ node: 'fw-vars', path: varsFile });
  if (!list.length)
    throw new HangarError('UNSUPPORTED', 'This VM has no writable qcow2 disk to hold a snapshot.');
  return list;
}

export function findSnapshot(config: VmConfig, ref: string): SnapshotMeta {
  const s = config.snapshots.find((x) => x.id === ref) ?? config.snapshots.filter((x) => x.name === ref);
  if (!Array.isArray(s)) return s;
  if (s.length === 1) return s[0]!;
  if (s.length > 1)
    throw new HangarError('CONFLICT', `${s.length} snapshots are named "${ref}"; use the id.`);
  throw new HangarError('NOT_FOUND', `"${config.name}" has no snapshot named or with the id "${ref}".`);
}

export function running(engine: EngineContext, config: VmConfig): boolean {
  const s = engine.runtime(config.id).state;
  return s === 'running' || s === 'paused';
}

/** Renames or re-describes a snapshot; only vm.json changes, the images keep their tags. */
export async function editSnapshot(
  engine: EngineContext,
  ref: string,
  snapRef: string,
  change: { name?: string; description?: string },
): Promise<SnapshotMeta> {
  return engine.withVm(ref, 'snapshot edit', async (config) => {
    const snap = findSnapshot(config, snapRef);
    const next = {
      ...snap,
      ...(change.name ? { name: change.name } : {}),
      ...(change.description !== undefined ? { description: change.description } : {}),
    };
    const saved = engine.store.save({
      ...config,
      snapshots: config.snapshots.map((s) => (s.id === snap.id ? next : s)),
    });
    engine.emit('config', { id: saved.id, config: saved });
    return next;
  });
}

export function refuseDisposable(engine: EngineContext, config: VmConfig): void {
  if (engine.runtime(config.id).disposable) {
    throw new HangarError(
      'CONFLICT',
      `"${config.name}" is in a disposable run, whose writes are thrown away; snapshots are not kept either.`,
    );
  }
}

/**
 * A snapshot that failed for want of space, said so. QEMU reports a full disk during a RAM
 * snapshot only as "Input/output error", so the free space is looked at: less than the guest's
 * RAM (what its state may take) makes the I/O error a full disk.
 */
/** QEMU cannot save a 9p device the guest has mounted: say what to do instead. */
export function ninePMounted(err: unknown, vm: string): HangarError | null {
  const text = err instanceof Error ? err.message : String(err);
  if (!/VirtFS export path .* is mounted in the guest/.test(text)) return null;
  return new HangarError(
    'CONFLICT',
    `${vm}'s guest has the shared folder mounted over 9p, whose state QEMU cannot save with the RAM. ` +
      'Unmount it in the guest first (sudo umount /mnt/host), or take a disk-only snapshot ' +
      '(hangar snapshot create VM NAME --disk-only).',
  );
}

function diskFull(err: unknown, dir: string, need: number): HangarError | null {
  if (err instanceof HangarError && err.code === 'IO_ERROR') return null; // said already
  const text = err instanceof Error ? err.message : String(err);
  let free: number | null = null;
  try {
    const fs = statfsSync(dir);
    free = fs.bavail * fs.bsize;
  } catch {
    // unknown: only QEMU's words can tell
  }
  const full =
    /No space left|ENOSPC/i.test(text) ||
    (/Input\/output error/i.test(text) && free !== null && free < Math.max(need, 16 * 2 ** 20));
  if (!full) return null;
  const room =
    free === null
      ? ''
      : ` (${formatSize(free)} free in ${dir}${need ? `; a snapshot with RAM needs up to ${formatSize(need)}` : ''})`;
  return new HangarError('IO_ERROR', `The disk is full${room}. Free some space and try again. ${text}`);
}

export async function createSnapshot(
  engine: EngineContext,
  ref: string,
  name: string,
  description = '',
  options: { ram?: boolean } = {},
): Promise<SnapshotMeta & { warning?: string }> {
  return engine.withVm(ref, 'snapshot', async (config) => {
    refuseDisposable(engine, config);
    refuseWhileStreaming(config, 'Take snapshots');
    const imgs = images(engine, config);
    const id = randomBytes(6).toString('hex').slice(0, 8);
    const meta: SnapshotMeta = {
      id,
      tag: `hs-${id}`,
      name,
      description,
      createdAt: new Date().toISOString(),
      parent: config.currentSnapshot,
      vmState: running(engine, config) && options.ram !== false,
      hardware: hardwareOf(config),
    };
    const progress = (p: number) => engine.progress(config.id, 'snapshot', p, `saving ${name}`);
    const { vmDir } = engine.paths(config.id);
    let warning: string | undefined;
    // The screen at this moment, before the save: what the snapshot holds.
    const screen = running(engine, config) ? await captureScreen(engine, config.id) : null;
    try {
      if (running(engine, config) && !meta.vmState) {
        // Disk-only while running: one atomic transaction over every image, with the guest's
        // filesystems frozen when its agent answers.
        const actions = imgs.map((i) => ({
          type: 'blockdev-snapshot-internal-sync',
          data: { device: i.node, name: meta.tag },
        }));
        const { consistency, thawFailed } = await withFrozenGuest(engine.agent(config.id), () =>
          engine.qmp(config.id).execute('transaction', { actions }),
        );
        meta.consistency = consistency;
        if (thawFailed !== undefined) warning = thawWarning(config.name, thawFailed);
        progress(100);
      } else if (meta.vmState) {
        await runJob(
          engine.qmp(config.id),
          'snapshot-save',
          { tag: meta.tag, vmstate: imgs[0]!.node, devices: imgs.map((i) => i.node) },
          progress,
        );
      } else {
        engine.requireStopped(config, 'take a disk snapshot');
        for (const [n, i] of imgs.entries()) {
          try {
            await engine.img.snapshot('create', i.path, meta.tag);
          } catch (err) {
            // The images done so far lose the tag again, so a failure leaves no half-snapshot.
            for (const done of imgs.slice(0, n))
              await engine.img.snapshot('delete', done.path, meta.tag).catch(() => undefined);
            throw err;
          }
          progress(((n + 1) / imgs.length) * 100);
        }
      }
    } catch (err) {
      throw (
        ninePMounted(err, config.name) ??
        diskFull(err, vmDir, meta.vmState ? config.memoryMiB * 2 ** 20 : 0) ??
        err
      );
    }
    if (screen) keepThumbnail(engine, config.id, id, screen);
    const saved = engine.store.save({
      ...config,
      snapshots: [...config.snapshots, meta],
      currentSnapshot: id,
    });
    engine.emit('config', { id: saved.id, config: saved });
    return warning ? { ...meta, warning } : meta;
  });
}

/** A guest left frozen hangs every write in it: the user must hear about it, with what to do. */
function thawWarning(name: string, why: string): string {
  return (
    `The snapshot was taken, but the guest agent in "${name}" did not confirm that it thawed the ` +
    `guest's filesystems (${why}): writes in the guest may hang. Take another disk-only snapshot ` +
    '(each one thaws at its end), or reset the VM.'
  );
}

/** Deletes one snapshot; its children are re-attached to its parent, so the tree stays whole. */
export async function deleteSnapshot(engine: EngineContext, ref: string, snapRef: string): Promise<void> {
  await engine.withVm(ref, 'snapshot delete', async (config) => {
    // Found and applied against the config read under the lock, so a snapshot taken or edited
    // meanwhile is never dropped from vm.json.
    const snap = await findForDelete(engine, config, snapRef);
    await engine.failpoint('snapshot-delete:found');
    const imgs = images(engine, config);
    const present = [];
    for (const i of imgs) if (!(await missingIn(engine, [i], snap.tag, config.id)).length) present.push(i);
    if (running(engine, config)) {
      if (present.length)
        await runJob(
          engine.qmp(config.id),
          'snapshot-delete',
          { tag: snap.tag, devices: present.map((i) => i.node) },
          () => undefined,
        );
    } else {
      for (const i of present) await engine.img.snapshot('delete', i.path, snap.tag);
    }
    const fresh = engine.store.load(config.id);
    const snapshots = fresh.snapshots
      .filter((s) => s.id !== snap.id)
      .map((s) => (s.parent === snap.id ? { ...s, parent: snap.parent } : s));
    const currentSnapshot = fresh.currentSnapshot === snap.id ? snap.parent : fresh.currentSnapshot;
    const saved = engine.store.save({ ...fresh, snapshots, currentSnapshot });
    dropThumbnail(engine, config.id, snap.id);
    engine.emit('config', { id: saved.id, config: saved });
  });
}

async function findForDelete(
  engine: EngineContext,
  config: VmConfig,
  snapRef: string,
): Promise<SnapshotMeta> {
  try {
    return findSnapshot(config, snapRef);
  } catch (err) {
    // A tag only the images know (made outside Hangar, or left by an interrupted snapshot) can
    // be deleted too, by the id the list shows for it; otherwise nothing could reclaim its space.
    if (!(err instanceof HangarError && err.code === 'NOT_FOUND')) throw err;
    const known = new Set(config.snapshots.map((s) => s.tag));
    const foreign = (await listSnapshots(engine, config.id)).find(
      (s) => s.id === snapRef && !known.has(s.tag),
    );
    if (!foreign) throw err;
    return foreign;
  }
}

interface NodeInfo {
  'node-name': string;
  image?: { snapshots?: { name: string; 'vm-state-size': number }[] };
}

/**
 * The tags each image holds, with the size of the RAM state saved under each (0: disks only).
 * A running VM is asked over QMP, saving a qemu-img run per image.
 */
export async function tagsIn(
  engine: EngineContext,
  imgs: Image[],
  configId: string,
): Promise<Map<string, number>[]> {
  const rt = engine.runtime(configId);
  if (rt.state === 'running' || rt.state === 'paused') {
    const nodes = await rt.qmp().execute<NodeInfo[]>('query-named-block-nodes', { flat: true });
    return imgs.map((i) => {
      const snaps = nodes.find((n) => n['node-name'] === i.node)?.image?.snapshots ?? [];
      return new Map(snaps.map((s) => [s.name, s['vm-state-size']]));
    });
  }
  const out: Map<string, number>[] = [];
  for (const i of imgs) {
    const snaps = (await engine.img.info(i.path, 'qcow2')).snapshots ?? [];
    out.push(new Map(snaps.map((s) => [s.name, s['vm-state-size']])));
  }
  return out;
}

/** The images that lack `tag`. */
export async function missingIn(
  engine: EngineContext,
  imgs: Image[],
  tag: string,
  configId: string,
): Promise<string[]> {
  const tags = await tagsIn(engine, imgs, configId);
  return imgs.filter((_, n) => !tags[n]!.has(tag)).map((i) => i.path);
}

// The figures of an image whose file has not changed (same size and time) are not read again:
// the Snapshots tab lists on every config event, and a large image takes a while to walk.
const usageCache = new Map<string, { key: string; usage: Awaited<ReturnType<typeof snapshotUsage>> }>();

async function usageOf(path: string): Promise<Awaited<ReturnType<typeof snapshotUsage>>> {
  const st = statSync(path);
  const key = `${st.size}:${st.mtimeMs}`;
  const hit = usageCache.get(path);
  if (hit?.key === key) return hit.usage;
  const usage = await snapshotUsage(path);
  if (usageCache.size >= 256) usageCache.delete(usageCache.keys().next().value!);
  usageCache.set(path, { key, usage });
  return usage;
}

/** Each snapshot tag's own bytes summed over the images, or null if one cannot be read. While the
 * VM runs, QEMU may hold table changes not yet written, so the figure is then an estimate. */
async function ownedBytes(paths: string[]): Promise<Map<string, number> | null> {
  const byTag = new Map<string, number>();
  try {
    for (const path of paths)
      for (const s of await usageOf(path)) byTag.set(s.name, (byTag.get(s.name) ?? 0) + s.uniqueBytes);
  } catch {
    return null; // shown as unknown: a listing never fails because a figure could not be read
  }
  return byTag;
}

export async function listSnapshots(engine: EngineContext, ref: string): Promise<SnapshotListEntry[]> {
  const config = engine.resolve(ref);
  const imgs = images(engine, config);
  const tagsByImage = await Promise.all(
    imgs.map(
      async (i) =>
        new Map(
          ((await engine.img.info(i.path, 'qcow2')).snapshots ?? []).map((s) => [s.name, s['vm-state-size']]),
        ),
    ),
  );
  const ramOf = (tag: string) => tagsByImage.reduce((sum, tags) => sum + (tags.get(tag) ?? 0), 0);
  const owned = await ownedBytes(imgs.map((i) => i.path));
  const known = config.snapshots.map((s) => ({
    ...s,
    current: s.id === config.currentSnapshot,
    missingIn: imgs.filter((_, n) => !tagsByImage[n]!.has(s.tag)).map((i) => i.path),
    ramBytes: ramOf(s.tag),
    ownBytes: owned && (owned.get(s.tag) ?? 0),
    thumbnail: hasThumbnail(engine, config.id, s.id),
  }));
  // Snapshots made outside Hangar (qemu-img, virsh) are listed too, so nothing is hidden.
  const ours = new Set(config.snapshots.map((s) => s.tag));
  const foreign = [...(tagsByImage[0]?.keys() ?? [])].filter((t) => !ours.has(t));
  return [
    ...known,
    ...foreign.map((tag) => ({
      id: tag,
      tag,
      name: tag,
      // hs-* is Hangar's own naming: such a tag was left by a snapshot whose engine was killed
      // before it recorded it in vm.json.
      description: tag.startsWith('hs-undo-')
        ? 'the undo point of an interrupted revert: the disks as they were before it'
        : tag.startsWith('hs-')
          ? 'left by an interrupted snapshot'
          : 'made outside Hangar',
      createdAt: new Date(0).toISOString(),
      parent: null,
      vmState: false,
      current: false,
      missingIn: [],
      ramBytes: ramOf(tag),
      ownBytes: owned && (owned.get(tag) ?? 0),
      thumbnail: false,
    })),
  ];
}
