// Templates and linked clones. A template's images become read-only bases; a linked clone's
// disks are overlays on them, made in milliseconds and holding only what the clone changes.
import { refuseWhileStreaming } from '../backup/instant-guard';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { copyConfig } from '../vms/copy-config';
import { VARS_FILE } from '../config/filenames';
import type { EngineContext } from '../context';
import { createOverlay, flatten, protect } from './overlay';
import { ownedImages } from './images';
import type { Claim } from '../policy/locks';
import { cloneSeed, SEED_DISK_ID } from '../cloudinit/seed';
import { freePort } from '../cloudinit/plan';

/** A template's linked clones by name, those still being made (staged) included. */
export function clonesOf(engine: EngineContext, templateId: string): string[] {
  const made = engine.store
    .list()
    .flatMap((e) => (e.ok && e.config.linkedTo === templateId ? [`"${e.config.name}"`] : []));
  const staged = engine.store.stagedClonesOf(templateId).map((id) => `a clone being made (${id})`);
  return [...made, ...staged];
}

/** The lock a linked clone holds on its template while it reads the template's files. */
export function templateClaim(templateId: string): Claim {
  return { key: templateId, mode: 'read', label: 'the template' };
}

export async function setTemplate(engine: EngineContext, ref: string, on: boolean): Promise<VmConfig> {
  return engine.withVm(ref, on ? 'make template' : 'unmake template', async (config) => {
    engine.requireStopped(config, on ? 'make it a template' : 'turn it back into a VM');
    if (on) refuseWhileStreaming(config, 'Make it a template');
    if (config.template === on) return config;
    const { vmDir, varsFile } = engine.paths(config.id);
    if (on) {
      if (config.baseline)
        throw new HangarError('CONFLICT', 'Clear the baseline before making this VM a template.');
      if (config.linkedTo)
        throw new HangarError('CONFLICT', 'A linked clone cannot be a template; make it independent first.');
    } else {
      const clones = clonesOf(engine, config.id);
      if (clones.length) {
        throw new HangarError('CONFLICT', `Linked clones still use this template: ${clones.join(', ')}.`);
      }
    }
    for (const i of ownedImages(config, vmDir, varsFile, 'A template')) protect(i.path, on);
    const saved = engine.store.save({ ...config, template: on });
    engine.emit('config', { id: saved.id, config: saved });
    return saved;
  });
}

/**
 * A new VM whose writable disks (and UEFI variables) are overlays on the template's. The
 * template is read-locked throughout, so it cannot be unmade, deleted or changed under a clone
 * being built; other clones of it may be made at the same time.
 */
export async function linkedClone(engine: EngineContext, ref: string, name: string): Promise<VmConfig> {
  const tpl = engine.resolve(ref);
  const from = engine.paths(tpl.id);
  const clone = copyConfig(tpl, name, {
    linkedTo: tpl.id,
    // Read-only disks are shared as they are: the clone points at the template's file.
    disks: tpl.disks.map((d) =>
      d.readOnly && d.owned && d.id !== SEED_DISK_ID
        ? { ...d, owned: false, path: join(from.vmDir, d.file), backingChain: [], blockDevice: false }
        : d,
    ),
  });
  const id = clone.id;
  const claims = [templateClaim(tpl.id), { key: id, mode: 'write' as const }];
  const made = await engine.withLocks(claims, 'linked clone', async () => {
    // Read again under the lock: it may have stopped being a template since it was resolved.
    const current = engine.store.load(tpl.id);
    if (!current.template) {
      throw new HangarError(
        'CONFLICT',
        `"${current.name}" is not a template; make it one first (hangar template set), or make a full clone.`,
      );
    }
    ownedImages(current, from.vmDir, from.varsFile, 'A linked clone');
    // Made in a staging directory that names the template, and published whole (ConfigStore.stage).
    const dir = engine.store.stage(id, tpl.id);
    try {
      await engine.failpoint('linked-clone:staged');
      for (const d of current.disks) {
        if (d.readOnly || !d.owned) continue;
        await createOverlay(engine.img, join(from.vmDir, d.file), join(dir, d.file));
      }
      if (current.firmware !== 'bios') await createOverlay(engine.img, from.varsFile, join(dir, VARS_FILE));
      const seeded = tpl.cloudInit ? await cloneSeed(clone, from.vmDir, dir, await freePort()) : clone;
      return engine.store.publish(seeded, dir);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  });
  engine.emit('config', { id, config: made });
  return made;
}

/** Copies the template's data into the clone, which then no longer needs the template. */
export async function makeIndependent(engine: EngineContext, ref: string): Promise<VmConfig> {
  const config = engine.resolve(ref);
  if (!config.linkedTo) throw new HangarError('CONFLICT', `"${config.name}" is not a linked clone.`);
  const claims = [{ key: config.id, mode: 'write' as const }, templateClaim(config.linkedTo)];
  return engine.withLocks(claims, 'make independent', async () => {
    engine.requireStopped(config, 'make it independent');
    const { vmDir, varsFile } = engine.paths(config.id);
    const images = ownedImages(config, vmDir, varsFile, 'Making a clone independent');
    for (const [n, i] of images.entries()) {
      await flatten(engine.img, i.path, (p) =>
        engine.progress(
          config.id,
          'make independent',
          ((n + p / 100) / images.length) * 100,
          `copying ${i.file}`,
        ),
      );
    }
    const saved = engine.store.save({ ...config, linkedTo: null });
    engine.emit('config', { id: saved.id, config: saved });
    return saved;
  });
}
