// Baselines and instant reset. Setting a baseline turns each writable image into a read-only
// base with an empty overlay on top; reset-to-baseline replaces the overlays with new empty
// ones, which takes the same few milliseconds for a 1 GiB disk as for a 1 TiB one.
import { refuseWhileStreaming } from '../backup/instant-guard';
import { existsSync, linkSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { createOverlay, flatten, protect } from './overlay';
import { ownedImages } from './images';
import { baseName, pendingName } from '../config/filenames';

export async function setBaseline(engine: EngineContext, ref: string): Promise<VmConfig> {
  return engine.withVm(ref, 'baseline', async (config) => {
    engine.requireStopped(config, 'set a baseline');
    refuseWhileStreaming(config, 'Set a baseline');
    if (config.baseline)
      throw new HangarError(
        'CONFLICT',
        `"${config.name}" already has a baseline; reset to it or clear it first.`,
      );
    if (config.template)
      throw new HangarError('CONFLICT', 'A template cannot have a baseline; its linked clones can.');
    if (config.snapshots.length) {
      throw new HangarError(
        'CONFLICT',
        `"${config.name}" has snapshots; set the baseline before taking snapshots, or delete them first.`,
      );
    }
    const { vmDir, varsFile } = engine.paths(config.id);
    const images = ownedImages(config, vmDir, varsFile, 'A baseline');
    const bases: Record<string, string> = {};
    const done: { overlay: string; base: string }[] = [];
    try {
      for (const i of images) {
        // Ordered so that a kill at any step leaves a usable VM that the next engine can finish
        // or undo (recovery.ts): the base is a second name for the same data, the overlay is
        // built beside the image and renamed over it in one step, vm.json is written last.
        const base = join(vmDir, baseName(i.file));
        linkSync(i.path, base);
        const tmp = pendingName(i.path);
        await createOverlay(engine.img, base, tmp);
        renameSync(tmp, i.path);
        done.push({ overlay: i.path, base });
        protect(base, true);
        bases[i.file] = baseName(i.file);
      }
    } catch (err) {
      // Put every image back as it was; nothing may be lost to a half-made baseline.
      for (const d of done.reverse()) {
        protect(d.base, false);
        renameSync(d.base, d.overlay);
      }
      for (const i of images) {
        rmSync(pendingName(i.path), { force: true });
        const base = join(vmDir, baseName(i.file));
        // A base name not yet turned into a real base is only a second link to the image.
        if (existsSync(base) && statSync(base).ino === statSync(i.path).ino) rmSync(base);
      }
      throw err;
    }
    const saved = engine.store.save({ ...config, baseline: { createdAt: new Date().toISOString(), bases } });
    engine.emit('config', { id: saved.id, config: saved });
    return saved;
  });
}

/** Discards everything since the baseline, snapshots taken since included; restarts a running VM. */
export async function resetToBaseline(
  engine: EngineContext,
  ref: string,
): Promise<{ config: VmConfig; ms: number }> {
  return engine.withVm(ref, 'reset to baseline', async (config) => {
    const started = performance.now();
    if (!config.baseline)
      throw new HangarError(
        'CONFLICT',
        `"${config.name}" has no baseline; set one first (hangar baseline set).`,
      );
    const { vmDir } = engine.paths(config.id);
    // All or nothing: every fresh overlay is made beside the one it replaces first; only when
    // all exist are they switched, by renames, so a failure leaves every disk as it was.
    const fresh: { tmp: string; overlay: string }[] = [];
    try {
      for (const [n, [overlay, base]] of Object.entries(config.baseline.bases).entries()) {
        await engine.failpoint('reset:prepare', n);
        const tmp = pendingName(join(vmDir, overlay));
        rmSync(tmp, { force: true });
        fresh.push({ tmp, overlay: join(vmDir, overlay) });
        await createOverlay(engine.img, join(vmDir, base), tmp);
      }
    } catch (err) {
      for (const f of fresh) rmSync(f.tmp, { force: true });
      throw err;
    }
    const rt = engine.runtime(config.id);
    const wasRunning = rt.state === 'running' || rt.state === 'paused';
    if (wasRunning) await rt.stop({ force: true });
    for (const f of fresh) renameSync(f.tmp, f.overlay);
    const saved = engine.store.save({ ...config, snapshots: [], currentSnapshot: null });
    engine.emit('config', { id: saved.id, config: saved });
    if (wasRunning) await rt.start(saved, engine.host);
    return { config: saved, ms: Math.round(performance.now() - started) };
  });
}

/** Keeps the current state and drops the baseline: each overlay becomes a standalone image again. */
export async function clearBaseline(engine: EngineContext, ref: string): Promise<VmConfig> {
  return engine.withVm(ref, 'clear baseline', async (config) => {
    engine.requireStopped(config, 'clear its baseline');
    if (!config.baseline) throw new HangarError('CONFLICT', `"${config.name}" has no baseline.`);
    const { vmDir } = engine.paths(config.id);
    const entries = Object.entries(config.baseline.bases);
    let current = config;
    for (const [n, [overlay, base]] of entries.entries()) {
      await flatten(engine.img, join(vmDir, overlay), (p) =>
        engine.progress(
          config.id,
          'clear baseline',
          ((n + p / 100) / entries.length) * 100,
          `copying ${overlay}`,
        ),
      );
      // Recorded image by image: an interrupted clear leaves vm.json true to the files.
      const bases = { ...current.baseline!.bases };
      delete bases[overlay];
      current = engine.store.save({ ...current, baseline: { ...current.baseline!, bases } });
      protect(join(vmDir, base), false);
      rmSync(join(vmDir, base));
    }
    const saved = engine.store.save({ ...current, baseline: null });
    engine.emit('config', { id: saved.id, config: saved });
    return saved;
  });
}
