// Changing, copying and removing VMs. Edits are validated by the same schema as vm.json; a
// clone gets a new id and new MACs; a delete removes only what the VM owns.
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EditVmRequest } from '../../../shared/requests';
import type { VmConfig } from '../../../shared/vm';
import type { DeleteResult } from '../../../shared/api-types';
import { HangarError } from '../../../shared/errors';
import { newMac, newVmId, parseConfig } from '../config/store';
import { diskPath } from '../qemu/argv';
import type { Engine } from '../engine';

/** Fields that take effect only at the next start; everything but name and description. */
const LIVE_FIELDS = new Set(['name', 'description']);

export async function editVm(engine: Engine, ref: string, patch: EditVmRequest): Promise<VmConfig> {
  const config = engine.resolve(ref);
  return engine.exclusive(config.id, 'edit', async () => {
    const fields = Object.keys(patch).filter((k) => patch[k as keyof EditVmRequest] !== undefined);
    if (fields.some((f) => !LIVE_FIELDS.has(f))) engine.requireStopped(config, 'change its hardware');
    const { portForwards, ...rest } = patch;
    const next: VmConfig = {
      ...config,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    };
    if (portForwards) {
      const [nic, ...others] = next.nics;
      if (!nic)
        throw new HangarError('INVALID_INPUT', 'This VM has no network interface to forward ports to.');
      next.nics = [{ ...nic, portForwards }, ...others];
    }
    const saved = engine.store.save(parseConfig(next));
    engine.emit('config', { id: saved.id, config: saved });
    return saved;
  });
}

export async function renameVm(engine: Engine, ref: string, name: string): Promise<VmConfig> {
  return editVm(engine, ref, { name });
}

/** Full clone: every disk copied into the new VM's directory, so the two share nothing. */
export async function cloneVm(engine: Engine, ref: string, name: string): Promise<VmConfig> {
  const src = engine.resolve(ref);
  return engine.exclusive(src.id, 'clone', async () => {
    engine.requireStopped(src, 'clone it');
    const id = newVmId();
    const now = new Date().toISOString();
    const clone = parseConfig({
      ...src,
      id,
      name,
      disks: src.disks.map((d) => ({ ...d, owned: true, file: `${d.id}.${d.format}` })),
      nics: src.nics.map((n) => ({ ...n, mac: newMac() })),
      snapshots: [],
      currentSnapshot: null,
      createdAt: now,
      updatedAt: now,
    });
    const from = engine.paths(src.id);
    const to = engine.paths(id);
    engine.store.create(clone);
    try {
      for (const [i, d] of src.disks.entries()) {
        const target = join(to.vmDir, `${d.id}.${d.format}`);
        await engine.img.convert(
          { path: diskPath(src, d, from.vmDir), format: d.format },
          { path: target, format: d.format },
          (p) =>
            engine.progress(src.id, 'clone', ((i + p / 100) / src.disks.length) * 100, `copying ${d.id}`),
        );
      }
      if (existsSync(from.varsFile))
        await engine.img.convert(
          { path: from.varsFile, format: 'qcow2' },
          { path: to.varsFile, format: 'qcow2' },
        );
      if (existsSync(join(from.vmDir, 'tpm')))
        cpSync(join(from.vmDir, 'tpm'), join(to.vmDir, 'tpm'), { recursive: true });
    } catch (err) {
      rmSync(to.vmDir, { recursive: true, force: true });
      throw err;
    }
    engine.progress(src.id, 'clone', 100, 'done');
    engine.emit('config', { id, config: clone });
    return clone;
  });
}

/** Files of other VMs that use one of `files` as a backing file (linked clones, overlays). */
async function dependents(engine: Engine, self: string, files: Set<string>): Promise<string[]> {
  const users: string[] = [];
  for (const entry of engine.store.list()) {
    if (!entry.ok || entry.id === self) continue;
    for (const d of entry.config.disks) {
      const path = diskPath(entry.config, d, engine.paths(entry.id).vmDir);
      if (d.format !== 'qcow2' || !existsSync(path)) continue;
      const backing = (await engine.img.info(path, 'qcow2'))['full-backing-filename'];
      if (backing && files.has(backing)) users.push(`${entry.config.name} (${path})`);
    }
  }
  return users;
}

/**
 * Removes the VM's directory entries that it owns. Files it only refers to (external disks,
 * ISOs), even when they sit inside its directory, are kept and reported.
 */
export async function deleteVm(engine: Engine, ref: string): Promise<DeleteResult> {
  const config = engine.resolve(ref);
  return engine.exclusive(config.id, 'delete', async () => {
    engine.requireStopped(config, 'delete it');
    const { vmDir } = engine.paths(config.id);
    const external = new Set<string>([
      ...config.disks.filter((d) => !d.owned).map((d) => diskPath(config, d, vmDir)),
      ...config.cdroms.flatMap((c) => (c.media ? [c.media] : [])),
    ]);
    const owned = new Set(config.disks.filter((d) => d.owned).map((d) => diskPath(config, d, vmDir)));
    const users = await dependents(engine, config.id, owned);
    if (users.length) {
      throw new HangarError(
        'CONFLICT',
        `Other VMs are built on this VM's disks: ${users.join(', ')}. Delete or make them independent first.`,
      );
    }
    const removed: string[] = [];
    const kept = [...external].filter((f) => !f.startsWith(vmDir + '/'));
    for (const name of readdirSync(vmDir)) {
      const path = join(vmDir, name);
      if (external.has(path)) {
        kept.push(path);
        continue;
      }
      // vm.json goes last, so an interrupted delete still leaves a listable VM.
      if (name === 'vm.json') continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    }
    rmSync(join(vmDir, 'vm.json'), { force: true });
    removed.push(join(vmDir, 'vm.json'));
    if (readdirSync(vmDir).length === 0) rmSync(vmDir, { recursive: true, force: true });
    engine.forget(config.id);
    engine.emit('config', { id: config.id, config: null });
    return { removed, kept };
  });
}
