// The lab's RAM states: the baseline (taken once every VM is ready) and the saved lab (`down`).
// Both are taken with every VM of the lab paused first, so no VM's memory holds a conversation
// another VM's memory has moved past; both are loaded with every VM left paused, then all resumed
// together.
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { createSnapshot, deleteSnapshot } from '../snapshots';
import { revertSnapshot } from '../snapshot-revert';
import type { LabState } from './state';

const running = (engine: EngineContext, id: string) => engine.runtime(id).state === 'running';

/** Pauses every running VM, runs `fn`, and resumes those it paused (also when `fn` fails). */
async function allPaused<T>(engine: EngineContext, ids: string[], fn: () => Promise<T>): Promise<T> {
  const paused = ids.filter((id) => running(engine, id));
  await Promise.all(paused.map((id) => engine.pause(id)));
  try {
    return await fn();
  } finally {
    await Promise.all(paused.map((id) => engine.resume(id).catch(() => undefined)));
  }
}

/** Takes a RAM snapshot of each VM with the whole lab paused; returns VM id -> snapshot id. */
async function snapshotAll(
  engine: EngineContext,
  ids: string[],
  name: string,
): Promise<Record<string, string>> {
  const metas = await Promise.all(
    ids.map((id) =>
      createSnapshot(engine, id, name, 'Taken by the lab.', { ram: true }).catch((err: unknown) => {
        // Say which VM: the snapshot's own message does not name it.
        if (err instanceof HangarError)
          throw new HangarError(err.code, `"${engine.store.load(id).name}": ${err.message}`, err.details);
        throw err;
      }),
    ),
  );
  return Object.fromEntries(ids.map((id, i) => [id, metas[i]!.id]));
}

export async function takeBaseline(
  engine: EngineContext,
  ids: string[],
): Promise<NonNullable<LabState['baseline']>> {
  const snapshots = await allPaused(engine, ids, () => snapshotAll(engine, ids, 'lab baseline'));
  return { takenAt: new Date().toISOString(), snapshots };
}

/** Loads each VM's snapshot, leaving it paused, then resumes them all at once. */
export async function loadTogether(engine: EngineContext, snaps: [string, string][]): Promise<void> {
  // Paused first: QEMU's snapshot-load resumes a VM that was running when the load began.
  await Promise.all(snaps.filter(([id]) => running(engine, id)).map(([id]) => engine.pause(id)));
  const loads = await Promise.allSettled(
    snaps.map(([id, snap]) => revertSnapshot(engine, id, snap, { resume: false })),
  );
  // Every VM this paused runs again, also when another's load failed: never a half-frozen lab.
  await Promise.all(
    snaps.map(([id]) =>
      engine.runtime(id).state === 'paused' ? engine.resume(id).catch(() => undefined) : undefined,
    ),
  );
  const failed = loads.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** `lab reset`: every VM (or those named) back to the lab baseline; returns the time it took. */
export async function resetToLabBaseline(
  engine: EngineContext,
  state: LabState,
  ids: string[],
): Promise<number> {
  const t0 = performance.now();
  const snaps = ids.map((id): [string, string] => [id, state.baseline!.snapshots[id]!]);
  await loadTogether(engine, snaps);
  return performance.now() - t0;
}

/** `lab down` (the default): the lab paused together, each VM's RAM saved, then powered off. */
export async function saveLab(engine: EngineContext, state: LabState, ids: string[]): Promise<void> {
  await dropStale(engine, state);
  const live = ids.filter((id) => !engine.isStopped(id));
  // Nothing running (a second `down`): the saved lab there is stays the one to resume.
  if (!live.length) return;
  const snapshots = await allPaused(engine, live, async () => {
    const s = await snapshotAll(engine, live, 'lab saved');
    // Still paused: nothing the guests do after the save is lost by pulling the plug.
    await Promise.all(live.map((id) => engine.stop(id, { force: true })));
    return s;
  });
  // A saved state replaced is deleted by the next `down`, not left to fill the disk.
  if (state.saved) stale(state, Object.keys(state.saved.snapshots));
  state.saved = { savedAt: new Date().toISOString(), snapshots };
}

/** Moves these VMs' saved-lab snapshots to the ones the next `down` deletes. */
export function stale(state: LabState, ids: string[]): void {
  if (!state.saved) return;
  for (const id of ids) {
    const snapshot = state.saved.snapshots[id];
    if (!snapshot) continue;
    state.stale.push({ id, snapshot });
    delete state.saved.snapshots[id];
  }
  if (!Object.keys(state.saved.snapshots).length) state.saved = null;
}

/** The next `up` of a saved lab: each VM resumes from its saved RAM, all at once. */
export async function resumeSaved(
  engine: EngineContext,
  state: LabState,
  ids: string[],
  onVm: (id: string, detail: string) => void,
): Promise<void> {
  const saved = state.saved!;
  for (const id of ids) onVm(id, 'loading the saved state');
  await loadTogether(
    engine,
    ids.map((id) => [id, saved.snapshots[id]!]),
  );
  // Only those resumed: with --only, the others' saved states wait for their own `up`.
  stale(state, ids);
}

/** Deletes saved-lab snapshots already used; one that is gone already is not an error. */
export async function dropStale(engine: EngineContext, state: LabState): Promise<void> {
  const left: LabState['stale'] = [];
  for (const s of state.stale) {
    await deleteSnapshot(engine, s.id, s.snapshot).catch((err: unknown) => {
      if (!(err instanceof Error && /not found|no snapshot|No VM/i.test(err.message))) left.push(s);
    });
  }
  state.stale = left;
}
