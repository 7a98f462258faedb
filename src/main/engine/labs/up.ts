// `lab up`: makes what is missing (linked clones of templates, VMs from cloud images), starts the
// lab's switch before any VM that needs it, then starts the VMs level by level in dependency
// order (in parallel within a level), waits for each to be ready, provisions each once, and takes
// the lab baseline when the file asks for one. A lab saved by `lab down` resumes instead.
import { dirname, resolve as resolvePath } from 'node:path';
import { HangarError } from '../../../shared/errors';
import type { ExpandedLab, PlannedVm } from '../../../shared/lab/expand';
import type { LabEvent, LabPlanEntry } from '../../../shared/lab/status';
import { CreateVmRequest } from '../../../shared/requests';
import type { Nic, VmConfig } from '../../../shared/vm';
import { labPaths, nicSocket } from '../config/paths';
import type { EngineContext } from '../context';
import { ensureSwitch } from '../network/switch/process';
import { linkedClone } from '../rollback/templates';
import { createVm } from '../vms/create';
import { parseCheck, type CheckName } from '../ready/checks';
import { waitReady } from '../ready/wait';
import { vmExec } from '../agent/vm-ops';
import { readSeedNetwork, saveSeedInputs, writeSeed } from '../cloudinit/seed';
import {
  hashOf,
  levelsOf,
  mcastGroups,
  networkConfigOf,
  switchConfigOf,
  vmNameOf,
  withLabDevices,
} from './build';
import { borrow } from './borrowed';
import { loadLabState, saveLabState, type LabState } from './state';
import { sshRun } from './ssh';
import { addDisk } from '../vms/disks';
import { newInstanceId } from '../cloudinit/plan';
import { readLab } from './read';
import { resumeSaved, stale, takeBaseline } from './rollback';

export interface LabSource {
  text: string;
  /** Where the text was read from: relative image paths are resolved against its folder. */
  sourceFile: string | null;
}

export interface UpOptions {
  /** Only these lab VMs (and what they depend on). */
  only?: string[];
  /** VMs started at once within a dependency level. */
  parallel?: number;
  readyTimeoutMs?: number;
  onEvent?: (e: LabEvent) => void;
  /** Where the switch program is (the entry points know; tests use the build output). */
  switchScript?: string;
}

export const labClaim = (name: string) => ({
  key: `lab:${name}`,
  mode: 'write' as const,
  label: `lab ${name}`,
});

/** The VM's config, or null when it was deleted (by hand, outside the lab). */
export function existingVm(engine: EngineContext, id: string): VmConfig | null {
  try {
    return engine.store.load(id);
  } catch {
    return null;
  }
}

function byName(engine: EngineContext, name: string): VmConfig | null {
  try {
    return engine.resolve(name);
  } catch {
    return null;
  }
}

/** What `up` would do to each VM: create it, change its devices, or keep it as it is. */
export function planLab(engine: EngineContext, src: LabSource): { lab: ExpandedLab; plan: LabPlanEntry[] } {
  const lab = readLab(src.text, src.sourceFile);
  const state = loadLabState(engine.home, lab.name);
  const plan = lab.vms.map((vm): LabPlanEntry => {
    const vmName = vmNameOf(lab.name, vm.name);
    const known = state?.vms[vm.name];
    const config = known ? existingVm(engine, known.id) : null;
    if ((!known || !config) && vm.source.kind === 'vm')
      return {
        vm: vm.name,
        vmName: vm.source.value,
        action: 'change',
        why: `adds the lab's networks and forwards to your VM (given back at destroy)`,
      };
    if (!known || !config) {
      const other = byName(engine, vmName);
      if (other)
        return {
          vm: vm.name,
          vmName,
          action: 'create',
          why: `a VM named "${vmName}" exists outside the lab`,
        };
      return { vm: vm.name, vmName, action: 'create', why: known ? 'its VM was deleted' : 'new' };
    }
    if (known.hash === hashOf(vm))
      return { vm: vm.name, vmName: config.name, action: 'keep', why: 'unchanged' };
    return { vm: vm.name, vmName: config.name, action: 'change', why: 'its entry in the lab file changed' };
  });
  return { lab, plan };
}

/** The VMs to bring up: those asked for and, transitively, what they depend on. */
function selected(lab: ExpandedLab, only: string[] | undefined): PlannedVm[] {
  if (!only?.length) return lab.vms;
  const want = new Set<string>();
  const add = (name: string) => {
    const vm = lab.vms.find((v) => v.name === name);
    if (!vm) throw new HangarError('NOT_FOUND', `Lab "${lab.name}" has no VM "${name}".`);
    if (want.has(name)) return;
    want.add(name);
    vm.dependsOn.forEach(add);
  };
  only.forEach(add);
  return lab.vms.filter((v) => want.has(v.name));
}

async function makeVm(
  engine: EngineContext,
  lab: ExpandedLab,
  vm: PlannedVm,
  src: LabSource,
): Promise<VmConfig> {
  const name = vmNameOf(lab.name, vm.name);
  if (byName(engine, name)) {
    throw new HangarError(
      'CONFLICT',
      `A VM named "${name}" already exists and is not part of lab "${lab.name}"; rename or delete it, ` +
        'or rename the VM in the lab file. Nothing was changed.',
    );
  }
  if (vm.source.kind === 'template') return linkedClone(engine, vm.source.value, name);
  const path = src.sourceFile ? resolvePath(dirname(src.sourceFile), vm.source.value) : vm.source.value;
  if (!path.startsWith('/'))
    throw new HangarError(
      'INVALID_INPUT',
      `VM "${vm.name}": the path ${vm.source.value} must be absolute here.`,
    );
  const req = CreateVmRequest.parse(
    vm.source.kind === 'image'
      ? {
          name,
          cpus: vm.cpus,
          memoryMiB: vm.memoryMiB,
          disk: { kind: 'existing', path },
          cloudInit: {
            ...(vm.user ? { user: vm.user } : {}),
            ...(vm.userData ? { userData: vm.userData } : {}),
          },
        }
      : // An installer ISO boots with a new blank disk, as the wizard makes one.
        { name, cpus: vm.cpus, memoryMiB: vm.memoryMiB, iso: path },
  );
  return createVm(req, {
    store: engine.store,
    host: engine.host,
    img: engine.img,
    policy: engine.policy,
    env: engine.env,
  });
}

const macsOf = (c: VmConfig) => c.nics.map((n) => n.mac).join(',');

async function applyDevices(
  engine: EngineContext,
  lab: ExpandedLab,
  state: LabState,
  vm: PlannedVm,
  id: string,
  own?: Nic[],
): Promise<VmConfig> {
  const mcast = state.fallback?.groups;
  // Without a switch there is no DHCP: a cloud image is told its lab addresses instead.
  const statics = new Map(
    vm.nics.map((n) => [n.mac, `${n.ip}/${lab.networks.find((x) => x.name === n.network)!.prefix}`]),
  );
  return engine.withVm(id, 'lab', async (config) => {
    engine.requireStopped(config, 'change its lab devices');
    let next = withLabDevices(config, lab.name, vm, own, mcast);
    if (next.cloudInit) {
      // cloud-init applies a network config once per instance: NICs that changed on a VM that
      // booted before need a new instance-id, or the new NICs would stay unconfigured.
      if (macsOf(next) !== macsOf(config))
        next = { ...next, cloudInit: { ...next.cloudInit, instanceId: newInstanceId() } };
      const { vmDir } = engine.paths(config.id);
      saveSeedInputs(vmDir, null, networkConfigOf(next, statics));
      await writeSeed(vmDir, next.cloudInit!);
    }
    const saved = engine.store.save(next);
    engine.emit('config', { id: saved.id, config: saved });
    return saved;
  });
}

/**
 * The lab's extra disks: new blank ones for entries the VM does not have yet. A disk dropped from
 * the file is kept (deleting data is never a side effect of editing a lab file); a new size is
 * not applied to a disk that exists.
 */
async function ensureDisks(
  engine: EngineContext,
  state: LabState,
  vm: PlannedVm,
  known: LabState['vms'][string],
  event: (phase: LabEvent['phase'], detail: string) => void,
): Promise<void> {
  for (const d of vm.disks.slice(known.disks.length)) {
    const before = new Set(engine.store.load(known.id).disks.map((x) => x.id));
    const after = await addDisk(engine, known.id, {
      kind: 'new',
      size: `${d.sizeMiB}M`,
      format: 'qcow2',
      preallocation: 'off',
    });
    const added = after.disks.find((x) => !before.has(x.id))!;
    known.disks.push(added.id);
    saveLabState(engine.home, state);
    event('creating', `disk ${added.id} (${d.sizeMiB} MiB)`);
  }
  if (known.disks.length > vm.disks.length)
    event(
      'creating',
      `kept ${known.disks.slice(vm.disks.length).join(', ')}: the file lists fewer disks, and a disk is only deleted by hand (hangar disk rm)`,
    );
}

/** Runs `fn` over items, at most `limit` at a time; the first failure is thrown after all end. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const errors: unknown[] = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      await fn(item).catch((err: unknown) => errors.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (errors.length) throw errors[0];
}

export function checksOf(vm: PlannedVm): CheckName[] {
  return vm.ready.flatMap((r) => parseCheck(r));
}

async function provision(
  engine: EngineContext,
  id: string,
  vm: PlannedVm,
  emit: (p: LabEvent['phase'], d: string) => void,
) {
  for (const step of vm.provision) {
    emit('provisioning', `${step.via === 'ssh' ? '(ssh) ' : ''}${step.run}`);
    const timeoutMs = 30 * 60_000;
    const r =
      step.via === 'ssh'
        ? await sshRun(engine.home, engine.store.load(id), step.run, timeoutMs)
        : await vmExec(engine, id, '/bin/sh', { args: ['-c', step.run], timeoutMs });
    if (r.exitCode !== 0) {
      const err = r.stderr.toString('utf8').trim().split('\n').slice(-10).join('\n');
      throw new HangarError(
        'QEMU_FAILED',
        `VM "${vm.name}": provisioning step "${step.run}" exited with ${r.exitCode ?? `signal ${r.signal}`}` +
          (err ? `:\n${err}` : '.'),
      );
    }
  }
}

/**
 * Starts the lab's switch (or reloads the one running) with a port for every lab VM made so far,
 * not only those one `up` starts: a partial up must not cut the others off.
 */
export async function startSwitch(
  engine: EngineContext,
  lab: ExpandedLab,
  state: LabState,
  switchScript: string | undefined,
  say: (detail: string) => void,
): Promise<void> {
  if (!lab.networks.length || state.fallback) return;
  const socketOf = (vm: PlannedVm, i: number) => {
    const known = state.vms[vm.name];
    return known && existingVm(engine, known.id) ? nicSocket(engine.paths(known.id).runDir, `lab${i}`) : null;
  };
  const paths = labPaths(engine.home, lab.name, engine.env);
  const sw = await ensureSwitch(paths, switchConfigOf(lab, paths.runDir, socketOf), switchScript);
  say(`switch pid ${sw.pid}: ${sw.segments.map((s) => s.name).join(', ')}`);
}

export async function labUp(
  engine: EngineContext,
  src: LabSource,
  options: UpOptions = {},
): Promise<LabState> {
  const lab = readLab(src.text, src.sourceFile);
  return engine.withLocks([labClaim(lab.name)], 'lab up', () => up(engine, lab, src, options));
}

async function up(
  engine: EngineContext,
  lab: ExpandedLab,
  src: LabSource,
  options: UpOptions,
): Promise<LabState> {
  const event = (vm: string | null, phase: LabEvent['phase'], detail: string) =>
    options.onEvent?.({ lab: lab.name, vm, phase, detail });
  const now = new Date().toISOString();
  const state: LabState = loadLabState(engine.home, lab.name) ?? {
    version: 1,
    name: lab.name,
    text: src.text,
    sourceFile: src.sourceFile,
    appliedAt: now,
    vms: {},
    baseline: null,
    saved: null,
    stale: [],
    fallback: null,
  };
  Object.assign(state, { text: src.text, sourceFile: src.sourceFile, appliedAt: now });
  const vms = selected(lab, options.only);

  if (lab.networks.length && !Object.keys(state.vms).length && !state.fallback) {
    // The lab's first up: the switch is tried before any VM is made, since a lab without one
    // gets other NICs (multicast groups on 127.0.0.1) for its whole life.
    try {
      await startSwitch(engine, lab, state, options.switchScript, (d) => event(null, 'starting', d));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      state.fallback = { reason, groups: mcastGroups(lab) };
      event(
        null,
        'starting',
        `no lab switch could start (${reason}); the networks fall back to multicast on 127.0.0.1: ` +
          'NOT ISOLATED from other local processes, and without DHCP or DNS (cloud images get static addresses)',
      );
    }
  }
  // A network added to a lab on the fallback gets a group of its own.
  if (state.fallback) state.fallback.groups = mcastGroups(lab, state.fallback.groups);
  saveLabState(engine.home, state);

  // Made first, all of them, so a bad source fails before anything starts.
  for (const vm of vms) {
    const known = state.vms[vm.name];
    const config = known ? existingVm(engine, known.id) : null;
    if (config && known!.hash === hashOf(vm)) continue;
    if (config) {
      event(vm.name, 'creating', 'applying the changed CPUs, memory, disks, forwards and networks');
      // Its saved RAM holds the old hardware: resuming it would undo the change.
      stale(state, [config.id]);
      await applyDevices(engine, lab, state, vm, config.id, known!.borrowed?.nics);
    } else if (vm.source.kind === 'vm') {
      const found = borrow(engine, lab.name, vm);
      event(
        vm.name,
        'creating',
        `using VM ${found.name} as it is (its networks and forwards are given back at destroy)`,
      );
      state.vms[vm.name] = {
        id: found.id,
        hash: '',
        provisioned: false,
        disks: [],
        borrowed: { nics: found.nics, network: readSeedNetwork(engine.paths(found.id).vmDir) },
      };
      saveLabState(engine.home, state);
      await applyDevices(engine, lab, state, vm, found.id, found.nics);
    } else {
      event(vm.name, 'creating', `${vm.source.kind} ${vm.source.value}`);
      const made = await makeVm(engine, lab, vm, src);
      // Recorded before its lab devices are applied: if that fails, destroy still finds it.
      state.vms[vm.name] = { id: made.id, hash: '', provisioned: false, disks: [] };
      saveLabState(engine.home, state);
      await applyDevices(engine, lab, state, vm, made.id);
      event(vm.name, 'created', made.name);
    }
    await ensureDisks(engine, state, vm, state.vms[vm.name]!, (p, d) => event(vm.name, p, d));
    if (state.baseline) {
      // The baseline is one moment of the whole lab as it was: with a VM changed or added it no
      // longer is the lab, so it is retired (deleted by the next down) and taken again when ready.
      for (const [id, snapshot] of Object.entries(state.baseline.snapshots))
        state.stale.push({ id, snapshot });
      state.baseline = null;
      event(null, 'baseline', `retired (${vm.name} changed); a new one is taken once the lab is ready`);
    }
    state.vms[vm.name]!.hash = hashOf(vm);
    saveLabState(engine.home, state);
  }
  saveLabState(engine.home, state);

  const switched = () =>
    startSwitch(engine, lab, state, options.switchScript, (d) => event(null, 'starting', d));
  const ids = vms.map((v) => state.vms[v.name]!.id);
  const stopped = (id: string) => engine.isStopped(id);
  if (state.saved && ids.every((id) => stopped(id) && state.saved!.snapshots[id])) {
    // The switch starts while the VMs load: their NICs listen and it connects to each when it is
    // up, so a saved lab comes back in about the time of its slowest load, not that plus a spawn.
    const [sw, loads] = await Promise.allSettled([
      switched(),
      resumeSaved(engine, state, ids, (id, d) => event(vmOf(state, id), 'resuming', d)),
    ]);
    saveLabState(engine.home, state);
    if (loads.status === 'rejected') throw loads.reason;
    if (sw.status === 'rejected') {
      const why = sw.reason instanceof Error ? sw.reason.message : String(sw.reason);
      throw new HangarError(
        'QEMU_FAILED',
        `The lab's VMs were resumed, but its switch did not start (${why}); they cannot reach each other until hangar lab up runs again.`,
      );
    }
    for (const vm of vms) event(vm.name, 'ready', 'resumed from the saved lab');
    return state;
  }
  await switched();

  const unused = ids.filter((id) => state.saved?.snapshots[id]);
  if (unused.length) {
    // Some VMs run already or have no saved state: the lab boots, and says so.
    event(
      null,
      'starting',
      'the saved lab is not resumed (not every VM is stopped with a saved state); booting',
    );
    stale(state, unused);
    saveLabState(engine.home, state);
  }

  for (const level of levelsOf(vms)) {
    await pool(level, options.parallel ?? 4, async (vm) => {
      const id = state.vms[vm.name]!.id;
      try {
        if (stopped(id)) {
          event(vm.name, 'starting', '');
          await engine.start(id);
        }
        const checks = checksOf(vm);
        if (checks.length) {
          await waitReady(engine, id, checks, options.readyTimeoutMs ?? 15 * 60_000, (c, d) =>
            event(vm.name, 'waiting', `${c}: ${d}`),
          );
        }
        event(vm.name, 'ready', checks.join(', ') || 'running');
        if (!state.vms[vm.name]!.provisioned && vm.provision.length) {
          await provision(engine, id, vm, (p, d) => event(vm.name, p, d));
          event(vm.name, 'provisioned', `${vm.provision.length} step${vm.provision.length === 1 ? '' : 's'}`);
        }
        state.vms[vm.name]!.provisioned = true;
        saveLabState(engine.home, state);
      } catch (err) {
        event(vm.name, 'failed', err instanceof Error ? err.message : String(err));
        throw err;
      }
    });
  }

  if (lab.baseline === 'on-ready' && !state.baseline && vms.length === lab.vms.length) {
    event(null, 'baseline', `pausing ${ids.length} VMs together`);
    state.baseline = await takeBaseline(engine, ids);
    saveLabState(engine.home, state);
    event(null, 'baseline', 'taken');
  }
  return state;
}

export function vmOf(state: LabState, id: string): string | null {
  return Object.entries(state.vms).find(([, v]) => v.id === id)?.[0] ?? null;
}
