// Reverting to a snapshot, all or nothing. Everything that can be checked is checked before
// anything changes (the tag in every image, the RAM state, the hardware it needs). Then every
// image gets an undo tag, so that a revert failing halfway (QEMU's snapshot-load reverts the
// disks before it reads the RAM state, and fails after) puts every disk back where it was.
import { randomBytes } from 'node:crypto';
import type { SnapshotMeta, VmConfig } from '../../shared/vm';
import { HangarError } from '../../shared/errors';
import type { EngineContext } from './context';
import { runJob } from './jobs';
import { configAt, machineDiffers } from './snapshot-hardware';
import { findSnapshot, images, refuseDisposable, running, tagsIn, type Image } from './snapshots';
import { dropChainBitmaps } from './backup';

/** Undo tags are Hangar's (hs-) and say what they are, should a killed engine leave one behind. */
export const UNDO_PREFIX = 'hs-undo-';

export async function revertSnapshot(
  engine: EngineContext,
  ref: string,
  snapRef: string,
  /** resume: false leaves a RAM snapshot's VM paused, so a lab can resume all its VMs together. */
  options: { resume?: boolean } = {},
): Promise<SnapshotMeta> {
  return engine.withVm(ref, 'revert', async (config) => {
    refuseDisposable(engine, config);
    const snap = findSnapshot(config, snapRef);
    const target = configAt(config, snap.hardware, snap.name);
    const imgs = images(engine, target);
    const wasRunning = running(engine, config);
    // A stopped VM going back to a RAM snapshot is started (paused) anyway: started first, its
    // checks and undo point go through QMP instead of a qemu-img process per image. If a check
    // fails it is stopped again, as it was.
    const early = snap.vmState && !wasRunning;
    if (early) await engine.runtime(config.id).start(target, engine.host, { paused: true });
    try {
      await checkTags(engine, config.id, imgs, snap);
      // QEMU will not apply a snapshot to an image with dirty bitmaps, and a revert ends a backup
      // chain anyway: the bitmaps of the disks being reverted go first, and the next backup is a
      // full that says why (also when the revert then fails: the chain ends either way).
      await dropChainBitmaps(engine, target);
    } catch (err) {
      if (early) await engine.runtime(config.id).stop({ force: true });
      throw err;
    }
    const progress = (p: number) => engine.progress(config.id, 'revert', p, `restoring ${snap.name}`);
    const undo = new UndoPoint(engine, config.id, imgs);
    try {
      await undo.take();
    } catch (err) {
      if (early) await engine.runtime(config.id).stop({ force: true });
      throw err;
    }
    try {
      if (snap.vmState)
        await loadWithRam(engine, config, target, snap, imgs, progress, options.resume ?? true);
      else await applyDisksOnly(engine, config, target, snap, imgs, progress);
    } catch (err) {
      throw await undo.restore(config, wasRunning, err);
    }
    await undo.drop();
    const saved = engine.store.save({ ...target, currentSnapshot: snap.id });
    engine.emit('config', { id: saved.id, config: saved });
    return snap;
  });
}

/** Every image holds the snapshot, and the first its memory when it has some; nothing changes. */
async function checkTags(
  engine: EngineContext,
  id: string,
  imgs: Image[],
  snap: SnapshotMeta,
): Promise<void> {
  const tags = await tagsIn(engine, imgs, id);
  const missing = imgs.filter((_, n) => !tags[n]!.has(snap.tag)).map((i) => i.path);
  if (missing.length)
    throw new HangarError(
      'NOT_FOUND',
      `Snapshot "${snap.name}" is missing from ${missing.join(', ')}; it cannot be restored. Nothing was changed.`,
    );
  if (snap.vmState && !tags[0]!.get(snap.tag)) {
    throw new HangarError(
      'CONFIG_CORRUPT',
      `Snapshot "${snap.name}" should hold the VM's memory, but ${imgs[0]!.path} has no memory state ` +
        'under it; it cannot be restored. Nothing was changed.',
    );
  }
}

/** A snapshot with RAM resumes exactly where it was taken, even from a stopped VM. */
async function loadWithRam(
  engine: EngineContext,
  config: VmConfig,
  target: VmConfig,
  snap: SnapshotMeta,
  imgs: Image[],
  progress: (p: number) => void,
  resume: boolean,
): Promise<void> {
  const rt = engine.runtime(config.id);
  // The running machine is discarded by the revert anyway; when the snapshot needs another one
  // (memory, CPUs, devices changed since), QEMU is started again with the snapshot's.
  if (running(engine, config) && machineDiffers(config, target)) await rt.stop({ force: true });
  if (!running(engine, config)) await rt.start(target, engine.host, { paused: true });
  await engine.failpoint('revert:load');
  await runJob(
    rt.qmp(),
    'snapshot-load',
    { tag: snap.tag, vmstate: imgs[0]!.node, devices: imgs.map((i) => i.node) },
    progress,
  );
  // The guest's agent is now the one of the snapshot's moment: whatever the session was waiting
  // for, or had half-read, belongs to the discarded guest. A fresh connection syncs from scratch.
  engine.resetAgent(config.id);
  if (resume) await rt.qmp().execute('cont');
}

/**
 * Disks only: a running guest would not survive its disks changing under it, so it is powered
 * off, every disk restored, and it is started again.
 */
async function applyDisksOnly(
  engine: EngineContext,
  config: VmConfig,
  target: VmConfig,
  snap: SnapshotMeta,
  imgs: Image[],
  progress: (p: number) => void,
): Promise<void> {
  const rt = engine.runtime(config.id);
  const wasRunning = running(engine, config);
  if (wasRunning) await rt.stop({ force: true });
  for (const [n, i] of imgs.entries()) {
    await engine.failpoint('revert:apply', n);
    await engine.img.snapshot('apply', i.path, snap.tag);
    progress(((n + 1) / imgs.length) * 100);
  }
  if (wasRunning) await rt.start(target, engine.host);
}

/** A disk-only internal snapshot of every image, taken before a revert changes anything. */
class UndoPoint {
  readonly tag = `${UNDO_PREFIX}${randomBytes(4).toString('hex')}`;
  private taken: Image[] = [];

  constructor(
    private readonly engine: EngineContext,
    private readonly id: string,
    private readonly imgs: Image[],
  ) {}

  private get live(): boolean {
    const s = this.engine.runtime(this.id).state;
    return s === 'running' || s === 'paused';
  }

  async take(): Promise<void> {
    if (this.live) {
      // One transaction: every image's undo point is the same instant.
      const actions = this.imgs.map((i) => ({
        type: 'blockdev-snapshot-internal-sync',
        data: { device: i.node, name: this.tag },
      }));
      await this.engine.qmp(this.id).execute('transaction', { actions });
      this.taken = [...this.imgs];
      return;
    }
    for (const i of this.imgs) {
      try {
        await this.engine.img.snapshot('create', i.path, this.tag);
        this.taken.push(i);
      } catch (err) {
        await this.drop();
        throw err;
      }
    }
  }

  /** Removes the undo tags; best effort, a leftover tag is listed and can be deleted. */
  async drop(): Promise<void> {
    const imgs = this.taken;
    this.taken = [];
    if (this.live) {
      for (const i of imgs)
        await this.engine
          .qmp(this.id)
          .execute('blockdev-snapshot-delete-internal-sync', { device: i.node, name: this.tag })
          .catch(() => undefined);
      return;
    }
    for (const i of imgs) await this.engine.img.snapshot('delete', i.path, this.tag).catch(() => undefined);
  }

  /**
   * After a failed revert: QEMU off, every disk back at the undo point, the undo tags gone, and
   * the VM started again if it was running. Returns the error to report, saying what was kept.
   */
  async restore(config: VmConfig, wasRunning: boolean, cause: unknown): Promise<HangarError> {
    const rt = this.engine.runtime(this.id);
    const reason = cause instanceof Error ? cause.message : String(cause);
    try {
      if (this.live) await rt.stop({ force: true });
      for (const i of this.taken) await this.engine.img.snapshot('apply', i.path, this.tag);
      await this.drop();
      if (wasRunning) await rt.start(config, this.engine.host);
    } catch (err) {
      return new HangarError(
        'QEMU_FAILED',
        `The revert failed (${reason}), and putting the disks back failed too: ${(err as Error).message}. ` +
          `Each disk still holds the snapshot ${this.tag} with its state from before the revert.`,
        { undoTag: this.tag },
      );
    }
    const code = cause instanceof HangarError ? cause.code : 'QEMU_FAILED';
    return new HangarError(
      code,
      `The revert failed: ${reason}. The disks and settings are as they were before it` +
        (wasRunning
          ? '; the VM was running and has been started again from them (its memory could not be kept).'
          : '.'),
      { ...(cause instanceof HangarError ? cause.details : {}) },
    );
  }
}
