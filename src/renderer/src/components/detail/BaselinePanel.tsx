// The baseline: a state the VM can be reset to in an instant, whatever the size of its disks,
// because reset only replaces the thin layer written since.
import { useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import type { VmConfig } from '../../../../shared/vm';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { useConfirm } from './Confirm';

export function BaselinePanel({ vm, config }: { vm: VmSummary; config: VmConfig }) {
  const [dialog, ask] = useConfirm();
  const [lastMs, setLastMs] = useState<number | null>(null);
  const stopped = vm.state === 'stopped' || vm.state === 'crashed';
  const live = vm.state === 'running' || vm.state === 'paused';
  const busy = vm.busy ? `Wait: ${vm.busy} is under way.` : null;

  if (config.template)
    return (
      <section className="rb-section" aria-labelledby="rb-baseline">
        <h2 id="rb-baseline">Baseline</h2>
        <p className="muted">A template cannot have a baseline; its linked clones can.</p>
      </section>
    );

  const set = () =>
    void attempt('Could not set the baseline', () => api('baseline.set', { vm: vm.id })).then((c) => {
      if (c) notify('info', 'Baseline set', `${c.name} can now be reset to how its disks are now.`);
    });

  const reset = async () => {
    const since = config.snapshots.length;
    const yes = await ask({
      title: `Reset ${vm.name} to its baseline?`,
      message: (
        <>
          <p>
            Everything since the baseline is lost, including snapshots taken since
            {since > 0 ? ` (${since === 1 ? 'there is 1' : `there are ${since}`})` : ''}: the disks go back to
            how they were when the baseline was set. This cannot be undone.
          </p>
          {live && (
            <p>
              The VM restarts: it is stopped at once, without a shutdown, and starts again from the baseline.
            </p>
          )}
        </>
      ),
      confirmLabel: 'Reset to baseline',
    });
    if (!yes) return;
    const r = await attempt('Could not reset to the baseline', () => api('baseline.reset', { vm: vm.id }));
    if (!r) return;
    setLastMs(r.ms);
    notify(
      'info',
      'Reset to baseline',
      `${r.config.name} is back at its baseline; the reset took ${r.ms} ms.`,
    );
  };

  // A baseline comes before snapshots. Rather than fail, offer the conversion in one step, saying
  // before the click which snapshots go.
  const deleteSnapshotsThenSet = async () => {
    const names = config.snapshots.map((s) => s.name);
    const yes = await ask({
      title: `Delete ${names.length === 1 ? 'the snapshot' : `the ${names.length} snapshots`} and set the baseline?`,
      message: (
        <>
          <p>A baseline comes before snapshots. These go for good:</p>
          <ul data-testid="baseline-convert-list">
            {names.map((n, i) => (
              <li key={i}>{n}</li>
            ))}
          </ul>
          <p>The disks stay as they are now, and that becomes the baseline.</p>
        </>
      ),
      confirmLabel: 'Delete and set baseline',
    });
    if (!yes) return;
    const done = await attempt('Could not delete the snapshots', async () => {
      // Newest first: no snapshot is deleted before the ones taken after it.
      for (const s of [...config.snapshots].reverse())
        await api('snapshot.delete', { vm: vm.id, snapshot: s.id });
      return true;
    });
    if (done) set();
  };

  const clear = async () => {
    const yes = await ask({
      title: `Clear the baseline of ${vm.name}?`,
      message: (
        <p>
          The VM keeps its current state, but can no longer be reset to the baseline. Each disk becomes a
          standalone image again, which takes as long as copying it.
        </p>
      ),
      confirmLabel: 'Clear baseline',
    });
    if (!yes) return;
    const c = await attempt('Could not clear the baseline', () => api('baseline.clear', { vm: vm.id }));
    if (c) notify('info', 'Baseline cleared', `${c.name} keeps its current state.`);
  };

  const base = config.baseline;
  const setBlock = !stopped
    ? 'Stop the VM to set a baseline.'
    : config.snapshots.length > 0
      ? 'It has snapshots: a baseline comes before snapshots, so delete them first.'
      : busy;
  const resetBlock = busy ?? (stopped || live ? null : `Wait until the VM is no longer ${vm.state}.`);
  const clearBlock = stopped ? busy : 'Stop the VM to clear its baseline.';

  return (
    <section className="rb-section" aria-labelledby="rb-baseline">
      <h2 id="rb-baseline">Baseline</h2>
      {base ? (
        <>
          <p className="rb-status" data-testid="baseline-info">
            Baseline set <time dateTime={base.createdAt}>{new Date(base.createdAt).toLocaleString()}</time>.
            {lastMs !== null && <span className="muted"> The last reset took {lastMs} ms.</span>}
          </p>
          <p>
            <strong>Reset to baseline</strong> returns the disks to that moment in an instant, whatever their
            size; a running VM restarts. <strong>Clear baseline</strong> keeps the current state and drops the
            baseline.
          </p>
          <div className="rb-actions">
            <button
              type="button"
              className="danger"
              data-testid="baseline-reset"
              disabled={resetBlock !== null}
              onClick={() => void reset()}
            >
              Reset to baseline…
            </button>
            <button
              type="button"
              data-testid="baseline-clear"
              disabled={clearBlock !== null}
              onClick={() => void clear()}
            >
              Clear baseline…
            </button>
            {(resetBlock ?? clearBlock) && (
              <span className="muted rb-reason">{resetBlock ?? clearBlock}</span>
            )}
          </div>
        </>
      ) : (
        <>
          <p>
            <strong>Set baseline</strong> makes the current disks the state that <em>Reset to baseline</em>{' '}
            returns to, in an instant, whatever their size. Use it for a clean state you come back to again
            and again.
          </p>
          <div className="rb-actions">
            <button type="button" data-testid="baseline-set" disabled={setBlock !== null} onClick={set}>
              Set baseline
            </button>
            {setBlock && <span className="muted rb-reason">{setBlock}</span>}
            {stopped && !busy && config.snapshots.length > 0 && (
              <button
                type="button"
                data-testid="baseline-set-convert"
                onClick={() => void deleteSnapshotsThenSet()}
              >
                Delete{' '}
                {config.snapshots.length === 1 ? 'the snapshot' : `the ${config.snapshots.length} snapshots`}{' '}
                and set baseline…
              </button>
            )}
          </div>
        </>
      )}
      {dialog}
    </section>
  );
}
