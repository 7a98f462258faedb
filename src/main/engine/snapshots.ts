// Snapshots: QMP jobs while the VM runs (RAM included), qemu-img while it is stopped (disks
// only). The qcow2 images are the truth for which snapshots exist; vm.json holds names,
// descriptions and the tree, and listing reconciles the two.
import { randomBytes } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { formatSize } from './storage/size';
import type { SnapshotMeta, VmConfig } from '../../shared/vm';
import { HangarError } from '../../shared/errors';
import { diskPath } from './qemu/argv';
import type { Engine } from './engine';
import { runJob } from './jobs';
import { withFrozenGuest } from './agent';

export interface SnapshotListEntry extends SnapshotMeta {
  current: boolean;
  /** Images that lack this snapshot (it cannot be reverted to); empty when whole. */
  missingIn: string[];
}

interface Image {
  node: string;
  path: string;
}

/** Every writable image a snapshot must cover, the UEFI variables included. */
function images(engine: Engine, config: VmConfig): Image[] {
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

function running(engine: Engine, config: VmConfig): boolean {
  const s = engine.runtime(config.id).state;
  return s === 'running' || s === 'paused';
}

/** Renames or re-describes a snapshot; only vm.json changes, the images keep their tags. */
export async function editSnapshot(
  engine: Engine,
  ref: string,
  snapRef: string,
  change: { name?: string; description?: string },
): Promise<SnapshotMeta> {
  const config = engine.resolve(ref);
  const snap = findSnapshot(config, snapRef);
  return engine.exclusive(config.id, 'snapshot edit', async () => {
    const next = {
      ...snap,
      ...(change.name ? { name: change.name } : {}),
      ...(change.description !== undefined ? { description: change.description } : {}),
    };
    const fresh = engine.store.load(config.id);
    const saved = engine.store.save({
      ...fresh,
      snapshots: fresh.snapshots.map((s) => (s.id === snap.id ? next : s)),
    });
    engine.emit('config', { id: saved.id, config: saved });
    return next;
  });
}

function refuseDisposable(engine: Engine, config: VmConfig): void {
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
  engine: Engine,
  ref: string,
  name: string,
  description = '',
  options: { ram?: boolean } = {},
): Promise<SnapshotMeta> {
  const config = engine.resolve(ref);
  return engine.exclusive(config.id, 'snapshot', async () => {
    refuseDisposable(engine, config);
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
    };
    const progress = (p: number) => engine.progress(config.id, 'snapshot', p, `saving ${name}`);
    const { vmDir } = engine.paths(config.id);
    try {
      if (running(engine, config) && !meta.vmState) {
        // Disk-only while running: one atomic transaction over every image, with the guest's
        // filesystems frozen when its agent answers.
        const actions = imgs.map((i) => ({
          type: 'blockdev-snapshot-internal-sync',
          data: { device: i.node, name: meta.tag },
        }));
        const { consistency } = await withFrozenGuest(engine.paths(config.id).qgaSocket, () =>
          engine.qmp(config.id).execute('transaction', { actions }),
        );
        meta.consistency = consistency;
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
      throw diskFull(err, vmDir, meta.vmState ? config.memoryMiB * 2 ** 20 : 0) ?? err;
    }
    const saved = engine.store.save({
      ...config,
      snapshots: [...config.snapshots, meta],
      currentSnapshot: id,
    });
    engine.emit('config', { id: saved.id, config: saved });
    return meta;
  });
}

export async function revertSnapshot(engine: Engine, ref: string, snapRef: string): Promise<SnapshotMeta> {
  const config = engine.resolve(ref);
  const snap = findSnapshot(config, snapRef);
  return engine.exclusive(config.id, 'revert', async () => {
    refuseDisposable(engine, config);
    const imgs = images(engine, config);
    const missing = await missingIn(engine, imgs, snap.tag, config.id);
    if (missing.length)
      throw new HangarError(
        'NOT_FOUND',
        `Snapshot "${snap.name}" is missing from ${missing.join(', ')}; it cannot be restored.`,
      );
    const progress = (p: number) => engine.progress(config.id, 'revert', p, `restoring ${snap.name}`);
    const rt = engine.runtime(config.id);
    if (snap.vmState) {
      // A snapshot with RAM resumes exactly where it was taken, even from a stopped VM.
      if (!running(engine, config)) await rt.start(config, engine.host, { paused: true });
      await runJob(
        rt.qmp(),
        'snapshot-load',
        { tag: snap.tag, vmstate: imgs[0]!.node, devices: imgs.map((i) => i.node) },
        progress,
      );
      await rt.qmp().execute('cont');
    } else {
      // Disks only: a running guest would not survive its disks changing under it, so it is
      // powered off, the disks restored, and it is started again.
      const wasRunning = running(engine, config);
      if (wasRunning) await rt.stop({ force: true });
      for (const [n, i] of imgs.entries()) {
        await engine.img.snapshot('apply', i.path, snap.tag);
        progress(((n + 1) / imgs.length) * 100);
      }
      if (wasRunning) await rt.start(engine.store.load(config.id), engine.host);
    }
    const saved = engine.store.save({ ...engine.store.load(config.id), currentSnapshot: snap.id });
    engine.emit('config', { id: saved.id, config: saved });
    return snap;
  });
}

/** Deletes one snapshot; its children are re-attached to its parent, so the tree stays whole. */
export async function deleteSnapshot(engine: Engine, ref: string, snapRef: string): Promise<void> {
  const config = engine.resolve(ref);
  let snap: SnapshotMeta;
  try {
    snap = findSnapshot(config, snapRef);
  } catch (err) {
    // A tag only the images know (made outside Hangar, or left by an interrupted snapshot) can
    // be deleted too, by the id the list shows for it; otherwise nothing could reclaim its space.
    if (!(err instanceof HangarError && err.code === 'NOT_FOUND')) throw err;
    const known = new Set(config.snapshots.map((s) => s.tag));
    const foreign = (await listSnapshots(engine, config.id)).find(
      (s) => s.id === snapRef && !known.has(s.tag),
    );
    if (!foreign) throw err;
    snap = foreign;
  }
  await engine.exclusive(config.id, 'snapshot delete', async () => {
    const imgs = images(engine, config);
    const present = [];
    for (const i of imgs) if (!(await missingIn(engine, [i], snap.tag)).length) present.push(i);
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
    const snapshots = config.snapshots
      .filter((s) => s.id !== snap.id)
      .map((s) => (s.parent === snap.id ? { ...s, parent: snap.parent } : s));
    const currentSnapshot = config.currentSnapshot === snap.id ? snap.parent : config.currentSnapshot;
    const saved = engine.store.save({ ...engine.store.load(config.id), snapshots, currentSnapshot });
    engine.emit('config', { id: saved.id, config: saved });
  });
}

interface NodeInfo {
  'node-name': string;
  image?: { snapshots?: { name: string }[] };
}

/** The images that lack `tag`. A running VM is asked over QMP, saving a qemu-img run per image. */
async function missingIn(engine: Engine, imgs: Image[], tag: string, configId?: string): Promise<string[]> {
  const rt = configId ? engine.runtime(configId) : null;
  if (rt && (rt.state === 'running' || rt.state === 'paused')) {
    const nodes = await rt.qmp().execute<NodeInfo[]>('query-named-block-nodes', { flat: true });
    return imgs
      .filter(
        (i) => !nodes.find((n) => n['node-name'] === i.node)?.image?.snapshots?.some((s) => s.name === tag),
      )
      .map((i) => i.path);
  }
  const missing: string[] = [];
  for (const i of imgs) {
    const tags = ((await engine.img.info(i.path, 'qcow2')).snapshots ?? []).map((s) => s.name);
    if (!tags.includes(tag)) missing.push(i.path);
  }
  return missing;
}

export async function listSnapshots(engine: Engine, ref: string): Promise<SnapshotListEntry[]> {
  const config = engine.resolve(ref);
  const imgs = images(engine, config);
  const tagsByImage = await Promise.all(
    imgs.map(
      async (i) => new Set(((await engine.img.info(i.path, 'qcow2')).snapshots ?? []).map((s) => s.name)),
    ),
  );
  const known = config.snapshots.map((s) => ({
    ...s,
    current: s.id === config.currentSnapshot,
    missingIn: imgs.filter((_, n) => !tagsByImage[n]!.has(s.tag)).map((i) => i.path),
  }));
  // Snapshots made outside Hangar (qemu-img, virsh) are listed too, so nothing is hidden.
  const ours = new Set(config.snapshots.map((s) => s.tag));
  const foreign = [...(tagsByImage[0] ?? [])].filter((t) => !ours.has(t));
  return [
    ...known,
    ...foreign.map((tag) => ({
      id: tag,
      tag,
      name: tag,
      // hs-* is Hangar's own naming: such a tag was left by a snapshot whose engine was killed
      // before it recorded it in vm.json.
      description: tag.startsWith('hs-') ? 'left by an interrupted snapshot' : 'made outside Hangar',
      createdAt: new Date(0).toISOString(),
      parent: null,
      vmState: false,
      current: false,
      missingIn: [],
    })),
  ];
}
