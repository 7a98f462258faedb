// Changing, copying and removing VMs. Edits are validated by the same schema as vm.json; a
// clone gets a new id and new MACs; a delete removes only what the VM owns.
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EditVmRequest } from '../../../shared/requests';
import type { PortForward, VmConfig } from '../../../shared/vm';
import type { DeleteResult } from '../../../shared/api-types';
import { HangarError } from '../../../shared/errors';
import { parseConfig } from '../config/store';
import { copyConfig } from './copy-config';
import { externalDirectBoot } from './external';
import { dependents, realOr } from './dependents';
import { cloneSeed, SEED_DISK_ID } from '../cloudinit/seed';
import { freePort } from '../cloudinit/plan';
import { DELETE_MARKER, VARS_FILE } from '../config/filenames';
import { writeFileAtomic } from '../config/atomic';
import { diskPath } from '../qemu/argv';
import type { EngineContext } from '../context';
import { clonesOf, templateClaim } from '../rollback/templates';
import type { Claim } from '../policy/locks';
import { checkShareFolder, shareNic } from '../share/folder';

/** Written into a VM's directory before its files are removed; see deleteVm and recovery.ts. */

/**
 * Fields that may change while the VM runs: name, description and tags, and the port forwards of a
 * user-mode NIC (applied to the running QEMU at once). Everything else waits for a stop.
 */
const LIVE_FIELDS = new Set(['name', 'description', 'tags', 'portForwards']);

const fwdKey = (f: PortForward) => `${f.protocol}:${f.hostAddress}:${f.hostPort}`;

/**
 * Changes a running VM's forwards to `next` through QEMU's hostfwd_remove/hostfwd_add (HMP only
 * in QEMU 7.2). Every part of each command is ours or a checked number or enum. A rule QEMU
 * refuses (a host port in use) undoes the ones added before it and fails with QEMU's reason.
 */
async function applyForwardsLive(
  engine: EngineContext,
  config: VmConfig,
  next: PortForward[],
): Promise<void> {
  const nic = config.nics[0]!;
  if (nic.mode !== 'user' || nic.segment)
    throw new HangarError(
      'CONFLICT',
      'Ports are forwarded live only on a NAT (user-mode) network; stop the VM to change them.',
    );
  const hmp = (line: string) =>
    engine.qmp(config.id).execute<string>('human-monitor-command', { 'command-line': line });
  const netdev = `${nic.id}-net`;
  const before = new Map(nic.portForwards.map((f) => [fwdKey(f), f]));
  const after = new Map(next.map((f) => [fwdKey(f), f]));
  const removed = [...before.values()].filter((f) => after.get(fwdKey(f))?.guestPort !== f.guestPort);
  const added = [...after.values()].filter((f) => before.get(fwdKey(f))?.guestPort !== f.guestPort);
  for (const f of removed) await hmp(`hostfwd_remove ${netdev} ${fwdKey(f)}`);
  const done: PortForward[] = [];
  for (const f of added) {
    const reply = await hmp(`hostfwd_add ${netdev} ${fwdKey(f)}-:${f.guestPort}`);
    if (reply.trim()) {
      for (const d of done) await hmp(`hostfwd_remove ${netdev} ${fwdKey(d)}`).catch(() => '');
      for (const r of removed)
        await hmp(`hostfwd_add ${netdev} ${fwdKey(r)}-:${r.guestPort}`).catch(() => '');
      throw new HangarError('CONFLICT', `QEMU refused to forward host port ${f.hostPort}: ${reply.trim()}`);
    }
    done.push(f);
  }
}

/** The shared folder an edit asks for, checked: a shareable folder and a NIC to carry it. */
function sharedFolderOf(
  engine: EngineContext,
  config: VmConfig,
  path: string | null | undefined,
  mode: { readOnly?: boolean; over9p?: boolean },
): VmConfig['sharedFolder'] {
  const modes = Object.fromEntries(Object.entries(mode).filter(([, v]) => v !== undefined));
  if (path === undefined) {
    // Only the mode changes: of the folder already shared.
    if (!Object.keys(modes).length) return config.sharedFolder;
    if (!config.sharedFolder)
      throw new HangarError(
        'INVALID_INPUT',
        `${config.name} shares no folder, so there is no sharing mode to change. ` +
          'Share one first (hangar edit VM --share DIR).',
      );
    return { ...config.sharedFolder, ...modes };
  }
  if (path === null) return null;
  const real = checkShareFolder(engine.policy, path);
  if (!shareNic(config))
    throw new HangarError(
      'INVALID_INPUT',
      `${config.name} has no NAT (user-mode) network card, which is what carries a shared folder. ` +
        'Add one, then share the folder.',
    );
  return {
    path: real,
    readOnly: config.sharedFolder?.readOnly ?? false,
    over9p: config.sharedFolder?.over9p ?? false,
    ...modes,
  };
}

export async function editVm(engine: EngineContext, ref: string, patch: EditVmRequest): Promise<VmConfig> {
  return engine.withVm(ref, 'edit', async (config) => {
    const fields = Object.keys(patch).filter((k) => patch[k as keyof EditVmRequest] !== undefined);
    if (fields.some((f) => !LIVE_FIELDS.has(f))) engine.requireStopped(config, 'change its hardware');
    // The same bounds as at creation (planVm): an edit must not give a VM more than the host has.
    const { hostCpus, hostMemoryMiB } = engine.host;
    if (patch.cpus !== undefined && patch.cpus > hostCpus)
      throw new HangarError('INVALID_INPUT', `${patch.cpus} CPUs is more than this host has (${hostCpus}).`);
    if (patch.memoryMiB !== undefined && patch.memoryMiB > hostMemoryMiB)
      throw new HangarError(
        'INVALID_INPUT',
        `${patch.memoryMiB} MiB is more memory than this host has (${hostMemoryMiB} MiB).`,
      );
    const { portForwards, sharedFolder, shareReadOnly, share9p, ...rest } = patch;
    if (rest.directBoot) rest.directBoot = externalDirectBoot(engine.policy, rest.directBoot);
    const next: VmConfig = {
      ...config,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    };
    next.sharedFolder = sharedFolderOf(engine, config, sharedFolder, {
      readOnly: shareReadOnly,
      over9p: share9p,
    });
    if (portForwards) {
      const [nic, ...others] = next.nics;
      if (!nic)
        throw new HangarError('INVALID_INPUT', 'This VM has no network interface to forward ports to.');
      next.nics = [{ ...nic, portForwards }, ...others];
      // Checked (duplicates, bounds) before QEMU is touched.
      const checked = parseConfig(next);
      if (!engine.isStopped(config.id))
        await applyForwardsLive(engine, config, checked.nics[0]!.portForwards);
    }
    const saved = engine.store.save(parseConfig(next));
    engine.emit('config', { id: saved.id, config: saved });
    return saved;
  });
}

export async function renameVm(engine: EngineContext, ref: string, name: string): Promise<VmConfig> {
  return editVm(engine, ref, { name });
}

/** Full clone: every disk copied into the new VM's directory, so the two share nothing. */
export async function cloneVm(engine: EngineContext, ref: string, name: string): Promise<VmConfig> {
  const resolved = engine.resolve(ref);
  // The source is only read: other clones of it may be made at the same time, nothing may
  // change it meanwhile; nor its template when it is a linked clone (its data is read through).
  const claims: Claim[] = [{ key: resolved.id, mode: 'read' }];
  if (resolved.linkedTo) claims.push(templateClaim(resolved.linkedTo));
  return engine.withLocks(claims, 'clone', async () => {
    const src = engine.store.load(resolved.id);
    engine.requireStopped(src, 'clone it');
    const clone = copyConfig(src, name, {
      disks: src.disks.map((d) => ({ ...d, owned: true, file: `${d.id}.${d.format}` })),
    });
    // A cloud-init seed is not copied: the clone gets its own (cloneSeed).
    const copied = src.disks.filter((d) => d.id !== SEED_DISK_ID);
    const id = clone.id;
    const from = engine.paths(src.id);
    // Copied into a staging directory and published whole: a clone interrupted by a crash must
    // not look like a VM whose disk is complete (see ConfigStore.stage).
    const dir = engine.store.stage(id);
    let made: VmConfig;
    try {
      for (const [i, d] of copied.entries()) {
        const target = join(dir, `${d.id}.${d.format}`);
        await engine.img.convert(
          { path: diskPath(src, d, from.vmDir), format: d.format },
          { path: target, format: d.format },
          (p) => engine.progress(src.id, 'clone', ((i + p / 100) / copied.length) * 100, `copying ${d.id}`),
        );
      }
      if (existsSync(from.varsFile))
        await engine.img.convert(
          { path: from.varsFile, format: 'qcow2' },
          { path: join(dir, VARS_FILE), format: 'qcow2' },
        );
      if (existsSync(join(from.vmDir, 'tpm')))
        cpSync(join(from.vmDir, 'tpm'), join(dir, 'tpm'), { recursive: true });
      const seeded = src.cloudInit ? await cloneSeed(clone, from.vmDir, dir, await freePort()) : clone;
      made = engine.store.publish(seeded, dir);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    engine.progress(src.id, 'clone', 100, 'done');
    engine.emit('config', { id, config: made });
    return made;
  });
}

/** Every file the other VMs use (disks, CD-ROM media, kernels, initrds), as given and resolved. */
function filesOfOthers(engine: EngineContext, self: string): string[] {
  const files: string[] = [];
  for (const e of engine.store.list()) {
    if (!e.ok || e.id === self) continue;
    const c = e.config;
    const { vmDir } = engine.paths(e.id);
    files.push(
      ...c.disks.map((d) => diskPath(c, d, vmDir)),
      ...c.cdroms.flatMap((cd) => (cd.media ? [cd.media] : [])),
      ...(c.directBoot ? [c.directBoot.kernel, c.directBoot.initrd ?? ''].filter(Boolean) : []),
    );
  }
  return files.flatMap((f) => [resolve(f), realOr(f)]);
}

/**
 * Removes the VM's directory entries that it owns. Files it only refers to (external disks,
 * ISOs), even when they sit inside its directory, are kept and reported.
 */
export async function deleteVm(engine: EngineContext, ref: string): Promise<DeleteResult> {
  return engine.withVm(ref, 'delete', async (config) => {
    engine.requireStopped(config, 'delete it');
    // By linkedTo, not only by backing file: a clone of a template without disks hangs on the
    // template's UEFI variable store alone, which the backing-file scan below does not look at.
    const clones = clonesOf(engine, config.id);
    if (clones.length) {
      throw new HangarError(
        'CONFLICT',
        `Linked clones are built on this template: ${clones.join(', ')}. ` +
          'Delete them or make them independent first.',
      );
    }
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
    // A file in this directory that another VM uses (an ISO or kernel put here by hand, a disk
    // attached in place) stays, with the entry that holds it, as if this VM's were external too.
    const others = filesOfOthers(engine, config.id);
    for (const name of readdirSync(vmDir)) {
      const path = join(vmDir, name);
      const here = [path, realOr(path)];
      if (others.some((f) => here.some((h) => f === h || f.startsWith(`${h}/`)))) external.add(path);
    }
    const removed: string[] = [];
    const kept = [...external].filter((f) => !f.startsWith(vmDir + '/'));
    // Marked first: an engine killed halfway leaves a VM that is neither whole nor gone, and the
    // next engine finishes the delete, keeping the files named here (recovery.ts).
    writeFileAtomic(join(vmDir, DELETE_MARKER), JSON.stringify({ keep: [...external] }));
    for (const name of readdirSync(vmDir)) {
      const path = join(vmDir, name);
      if (external.has(path)) {
        kept.push(path);
        continue;
      }
      // vm.json goes last (before the marker), so an interrupted delete still leaves a listable VM.
      if (name === 'vm.json' || name === DELETE_MARKER) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    }
    rmSync(join(vmDir, 'vm.json'), { force: true });
    removed.push(join(vmDir, 'vm.json'));
    rmSync(join(vmDir, DELETE_MARKER), { force: true });
    if (readdirSync(vmDir).length === 0) rmSync(vmDir, { recursive: true, force: true });
    engine.forget(config.id);
    engine.emit('config', { id: config.id, config: null });
    return { removed, kept };
  });
}
