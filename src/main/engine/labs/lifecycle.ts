// The lab verbs after `up`: status, down (save or shut down), reset to the lab baseline, destroy
// (the lab's VMs, and nothing else), and capture of a segment's traffic.
import { rmSync } from 'node:fs';
import { HangarError } from '../../../shared/errors';
import type { LabEvent, LabStatus } from '../../../shared/lab/status';
import { labPaths } from '../config/paths';
import type { EngineContext } from '../context';
import { control, stopSwitch, switchPid, switchStatus } from '../network/switch/process';
import { deleteVm } from '../vms/manage';
import { readLab } from './read';
import { dropStale, resetToLabBaseline, saveLab, stale, takeBaseline } from './rollback';
import { waitReady } from '../ready/wait';
import { labNames, loadLabState, saveLabState, type LabState } from './state';
import { checksOf, existingVm, labClaim, startSwitch, vmOf } from './up';
import { vmNameOf } from './build';
import { giveBack } from './borrowed';

function requireLab(engine: EngineContext, name: string): LabState {
  const state = loadLabState(engine.home, name);
  if (!state) {
    const known = labNames(engine.home);
    throw new HangarError(
      'NOT_FOUND',
      `No lab "${name}"${known.length ? ` (labs: ${known.join(', ')})` : ''}; bring one up with hangar lab up FILE.`,
    );
  }
  return state;
}

/** The lab's VM ids that still exist, in the lab file's order. */
function liveIds(engine: EngineContext, state: LabState): string[] {
  return Object.values(state.vms)
    .map((v) => v.id)
    .filter((id) => existingVm(engine, id) !== null);
}

export async function labStatus(engine: EngineContext, name: string): Promise<LabStatus> {
  const state = requireLab(engine, name);
  const lab = readLab(state.text, state.sourceFile);
  const sw = await switchStatus(labPaths(engine.home, name, engine.env));
  return {
    name,
    text: state.text,
    sourceFile: state.sourceFile,
    appliedAt: state.appliedAt,
    switch: sw ? { pid: sw.pid, segments: sw.segments.map((s) => ({ name: s.name, ports: s.ports })) } : null,
    networks: lab.networks.map((n) => ({
      name: n.name,
      subnet: n.subnet,
      switchIp: n.switchIp,
      isolated: !state.fallback,
      ...(state.fallback?.groups[n.name] ? { multicast: state.fallback.groups[n.name] } : {}),
    })),
    vms: lab.vms.map((vm) => {
      const known = state.vms[vm.name];
      const config = known ? existingVm(engine, known.id) : null;
      const exists = !!config;
      return {
        vm: vm.name,
        id: known && exists ? known.id : null,
        // A borrowed VM keeps its own name; those the lab made are <lab>-<vm>.
        vmName: config?.name ?? (vm.source.kind === 'vm' ? vm.source.value : vmNameOf(name, vm.name)),
        borrowed: !!known?.borrowed,
        state: known && exists ? engine.runtime(known.id).state : 'missing',
        addresses: vm.nics.map((n) => ({ network: n.network, ip: n.ip, dns: `${vm.name}.${name}.internal` })),
        forwards: vm.forwards,
        provisioned: known?.provisioned ?? false,
      };
    }),
    baseline: state.baseline?.takenAt ?? null,
    saved: state.saved?.savedAt ?? null,
  };
}

export async function labList(engine: EngineContext): Promise<LabStatus[]> {
  const out: LabStatus[] = [];
  for (const name of labNames(engine.home)) out.push(await labStatus(engine, name));
  return out;
}

export async function labDown(
  engine: EngineContext,
  name: string,
  options: { shutdown?: boolean; onEvent?: (e: LabEvent) => void } = {},
): Promise<void> {
  await engine.withLocks([labClaim(name)], 'lab down', async () => {
    const state = requireLab(engine, name);
    const ids = liveIds(engine, state);
    const event = (vm: string | null, phase: LabEvent['phase'], detail: string) =>
      options.onEvent?.({ lab: name, vm, phase, detail });
    if (options.shutdown) {
      await Promise.all(
        ids.map(async (id) => {
          if (engine.isStopped(id)) return;
          await engine.stop(id, { timeoutMs: 60_000, forceAfter: true });
          event(vmOf(state, id), 'stopped', 'shut down');
        }),
      );
      // A lab shut down boots the next time: a saved state from before would be a surprise.
      if (state.saved) stale(state, Object.keys(state.saved.snapshots));
      await dropStale(engine, state);
    } else {
      event(null, 'saving', `pausing ${ids.length} VMs together and saving their memory`);
      await saveLab(engine, state, ids);
      for (const id of ids) event(vmOf(state, id), 'stopped', 'saved');
    }
    saveLabState(engine.home, state);
    await stopSwitch(labPaths(engine.home, name, engine.env));
  });
}

export async function labReset(engine: EngineContext, name: string, only?: string): Promise<{ ms: number }> {
  return engine.withLocks([labClaim(name)], 'lab reset', async () => {
    const state = requireLab(engine, name);
    if (!state.baseline)
      throw new HangarError(
        'CONFLICT',
        `Lab "${name}" has no baseline: add "baseline: on-ready" to its file, or take one with hangar lab baseline ${name} while it runs.`,
      );
    let ids = Object.keys(state.baseline.snapshots);
    if (only) {
      const id = state.vms[only]?.id;
      if (!id || !state.baseline.snapshots[id])
        throw new HangarError('NOT_FOUND', `Lab "${name}" has no VM "${only}" in its baseline.`);
      ids = [id];
    }
    // A lab that is down has no switch: its VMs would come back cut off from each other.
    if (switchPid(labPaths(engine.home, name, engine.env)) === null)
      await startSwitch(engine, readLab(state.text, state.sourceFile), state, undefined, () => undefined);
    const ms = await resetToLabBaseline(engine, state, ids);
    return { ms };
  });
}

/** `lab wait`: every VM of the lab running and passing its readiness checks (`ready:` in the file). */
export async function labWait(engine: EngineContext, name: string, timeoutMs: number): Promise<void> {
  const state = requireLab(engine, name);
  const lab = readLab(state.text, state.sourceFile);
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    lab.vms.map(async (vm) => {
      const id = state.vms[vm.name]?.id;
      if (!id || !existingVm(engine, id))
        throw new HangarError(
          'NOT_FOUND',
          `Lab "${name}" has no VM for "${vm.name}" yet; run hangar lab up.`,
        );
      if (engine.isStopped(id))
        throw new HangarError('CONFLICT', `"${vm.name}" of lab "${name}" is stopped; run hangar lab up.`);
      await waitReady(engine, id, checksOf(vm), Math.max(0, deadline - Date.now()));
    }),
  );
}

/** `lab baseline`: a new lab baseline now (the whole lab paused together); the old one is deleted. */
export async function labBaseline(engine: EngineContext, name: string): Promise<void> {
  await engine.withLocks([labClaim(name)], 'lab baseline', async () => {
    const state = requireLab(engine, name);
    const ids = liveIds(engine, state);
    const down = ids.filter((id) => engine.isStopped(id));
    if (!ids.length || down.length)
      throw new HangarError(
        'CONFLICT',
        `Lab "${name}" is not running as a whole (${down.map((id) => vmOf(state, id)).join(', ') || 'no VMs'} stopped); run hangar lab up first.`,
      );
    const old = state.baseline;
    state.baseline = await takeBaseline(engine, ids);
    // The old one is retired only once the new one is recorded (a failure above leaves it usable),
    // and deleted like any retired lab snapshot (by the next down, if not now).
    for (const [id, snapshot] of Object.entries(old?.snapshots ?? {})) state.stale.push({ id, snapshot });
    saveLabState(engine.home, state);
    await dropStale(engine, state);
    saveLabState(engine.home, state);
  });
}

export async function labCapture(
  engine: EngineContext,
  name: string,
  segment: string,
  file: string | null,
): Promise<unknown> {
  const state = requireLab(engine, name);
  const group = state.fallback?.groups[segment];
  if (group)
    throw new HangarError(
      'UNSUPPORTED',
      `Lab "${name}" has no switch (multicast fallback); capture its network on the host instead: tcpdump -i lo -w FILE udp port ${group.port}.`,
    );
  const paths = labPaths(engine.home, name, engine.env);
  if (!(await switchStatus(paths)))
    throw new HangarError('CONFLICT', `Lab "${name}" is not up; its switch is not running.`);
  return file
    ? control(paths, { op: 'capture', segment, file })
    : control(paths, { op: 'capture-stop', segment });
}

/** Deletes the lab's VMs (only those it made), stops its switch and forgets it. */
export async function labDestroy(
  engine: EngineContext,
  name: string,
  onEvent?: (e: LabEvent) => void,
): Promise<{ deleted: string[] }> {
  return engine.withLocks([labClaim(name)], 'lab destroy', async () => {
    const state = requireLab(engine, name);
    const deleted: string[] = [];
    for (const id of liveIds(engine, state)) {
      const vm = vmOf(state, id);
      const config = engine.store.load(id);
      const borrowed = vm ? state.vms[vm]?.borrowed : undefined;
      if (borrowed) {
        await giveBack(engine, state, id, borrowed);
        onEvent?.({ lab: name, vm, phase: 'stopped', detail: `${config.name} given back as it was` });
      } else {
        if (!engine.isStopped(id)) await engine.stop(id, { force: true });
        await deleteVm(engine, id);
        deleted.push(config.name);
        onEvent?.({ lab: name, vm, phase: 'deleted', detail: config.name });
      }
      if (vm) delete state.vms[vm];
      saveLabState(engine.home, state); // a failure half-way leaves what is left listed
    }
    const paths = labPaths(engine.home, name, engine.env);
    await stopSwitch(paths);
    rmSync(paths.runDir, { recursive: true, force: true });
    rmSync(paths.dir, { recursive: true, force: true });
    return { deleted };
  });
}
