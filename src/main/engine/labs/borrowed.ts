// VMs a lab borrows (`vm: NAME` in the file): the user's own VMs, used as they are. The lab adds
// its NICs and forwards; destroy gives the VM back with the NICs it had and without the lab's
// snapshots, and never deletes it.
import { HangarError } from '../../../shared/errors';
import type { PlannedVm } from '../../../shared/lab/expand';
import type { VmConfig } from '../../../shared/vm';
import type { EngineContext } from '../context';
import { newInstanceId } from '../cloudinit/plan';
import { removeSeedNetwork, saveSeedInputs, writeSeed } from '../cloudinit/seed';
import { deleteSnapshot } from '../snapshots';
import { labNames, loadLabState, type LabState } from './state';

/** The VM a `vm:` entry names: it exists, is no template, and is in no other lab. */
export function borrow(engine: EngineContext, lab: string, vm: PlannedVm): VmConfig {
  let config: VmConfig;
  try {
    config = engine.resolve(vm.source.value);
  } catch {
    throw new HangarError('NOT_FOUND', `VM "${vm.name}": there is no VM "${vm.source.value}" to use.`);
  }
  if (config.template)
    throw new HangarError(
      'INVALID_INPUT',
      `VM "${vm.name}": "${config.name}" is a template; use "template: ${config.name}" for a linked clone of it.`,
    );
  // Checked before the lab records it: a running VM is never taken over (down would save and
  // power it off) just to fail on its NICs.
  engine.requireStopped(config, `join lab "${lab}" (the lab adds its NICs)`);
  for (const other of labNames(engine.home)) {
    if (other === lab) continue;
    const s = loadLabState(engine.home, other);
    if (s && Object.values(s.vms).some((v) => v.id === config.id))
      throw new HangarError('CONFLICT', `VM "${config.name}" is in lab "${other}" already.`);
  }
  return config;
}

/** The lab's snapshots of one VM: its baseline, its saved state and those already retired. */
function labSnapshots(state: LabState, id: string): string[] {
  return [
    state.baseline?.snapshots[id],
    state.saved?.snapshots[id],
    ...state.stale.filter((s) => s.id === id).map((s) => s.snapshot),
  ].filter((s): s is string => !!s);
}

/**
 * Gives a borrowed VM back: shut down (it cannot keep NICs to a switch that is going), the lab's
 * snapshots deleted, its own NICs restored and, for a cloud image, cloud-init told to configure
 * them again at the next boot.
 */
export async function giveBack(
  engine: EngineContext,
  state: LabState,
  id: string,
  borrowed: NonNullable<LabState['vms'][string]['borrowed']>,
): Promise<void> {
  if (!engine.isStopped(id)) await engine.stop(id, { timeoutMs: 60_000, forceAfter: true });
  for (const snap of labSnapshots(state, id))
    await deleteSnapshot(engine, id, snap).catch((err: unknown) => {
      // One the user deleted already is no reason to keep the VM from being given back.
      if (!(err instanceof HangarError && err.code === 'NOT_FOUND')) throw err;
    });
  await engine.withVm(id, 'lab', async (config) => {
    let next: VmConfig = { ...config, nics: borrowed.nics };
    if (next.cloudInit) {
      next = { ...next, cloudInit: { ...next.cloudInit, instanceId: newInstanceId() } };
      const { vmDir } = engine.paths(id);
      if (borrowed.network !== null) saveSeedInputs(vmDir, null, borrowed.network);
      else removeSeedNetwork(vmDir);
      await writeSeed(vmDir, next.cloudInit!);
    }
    const saved = engine.store.save(next);
    engine.emit('config', { id, config: saved });
  });
}
