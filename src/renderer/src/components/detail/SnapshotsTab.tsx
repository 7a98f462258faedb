// Snapshots: the tree, "Take snapshot", and revert/delete with a confirmation. The list is read
// again whenever the engine reports a config change for this VM (snapshots live in vm.json).
import { useCallback, useEffect, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';
import { useVms } from '../../store/vms';
import { useConfirm } from './Confirm';
import { snapshotRows, type SnapshotItem } from './snapshot-tree';
import { TakeSnapshotForm } from './TakeSnapshotForm';

export function SnapshotsTab({ vm }: { vm: VmSummary }) {
  const id = vm.id;
  const version = useVms((s) => s.configVersion[id] ?? 0);
  const progress = useVms((s) => s.progress[id]);
  const [list, setList] = useState<SnapshotItem[] | null>(null);
  const [taking, setTaking] = useState(false);
  const [dialog, ask] = useConfirm();

  const load = useCallback(async () => {
    const l = await attempt('Could not list snapshots', () => api('snapshot.list', { vm: id }));
    if (l) setList(l);
  }, [id]);
  useEffect(() => {
    void load();
  }, [load, version]);

  const revert = async (s: SnapshotItem) => {
    const yes = await ask({
      title: `Revert to "${s.name}"?`,
      message: s.vmState ? (
        <p>
          The VM goes back to the moment this snapshot was taken and runs from there (it starts if it is
          stopped). Unsaved state is lost: work in the running guest and changes to its disks since then,
          unless another snapshot holds them.
        </p>
      ) : (
        <p>
          The VM&apos;s disks go back to how they were when this snapshot was taken. Unsaved state is lost:
          changes to the disks since then, unless another snapshot holds them. This snapshot holds disks only,
          so the VM must be stopped.
        </p>
      ),
      confirmLabel: 'Revert',
    });
    if (!yes) return;
    await attempt('Could not revert', () => api('snapshot.revert', { vm: id, snapshot: s.id }));
    void load();
  };
  const remove = async (s: SnapshotItem) => {
    const yes = await ask({
      title: `Delete snapshot "${s.name}"?`,
      message: <p>The VM itself is not changed, but you can no longer go back to this point.</p>,
      confirmLabel: 'Delete',
    });
    if (!yes) return;
    await attempt('Could not delete the snapshot', () => api('snapshot.delete', { vm: id, snapshot: s.id }));
    void load();
  };

  const rows = list ? snapshotRows(list) : [];
  return (
    <div className="snap-tab">
      <div className="console-toolbar">
        <button
          type="button"
          className="primary"
          data-testid="snapshot-take"
          aria-expanded={taking}
          onClick={() => setTaking((t) => !t)}
        >
          Take snapshot…
        </button>
        <span className="console-spacer" />
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {taking && (
        <TakeSnapshotForm
          vm={vm}
          onDone={() => {
            setTaking(false);
            void load();
          }}
          onCancel={() => setTaking(false)}
        />
      )}
      {progress && (
        <div className="snap-progress" role="status" data-testid="snapshot-progress">
          <span>
            {progress.operation}: {progress.step}
          </span>
          <progress max={100} value={progress.percent} aria-label={progress.operation} />
        </div>
      )}
      {list === null ? (
        <p className="muted">Loading snapshots…</p>
      ) : rows.length === 0 ? (
        <p className="muted" data-testid="snapshot-empty">
          No snapshots yet. Take one before a risky change; reverting to it takes a second.
        </p>
      ) : (
        <ul className="snap-list" aria-label="Snapshots">
          {rows.map(({ snapshot: s, depth }) => (
            <li
              key={s.id}
              className={`snap-row${s.current ? ' snap-current' : ''}`}
              style={{ marginLeft: `${Math.min(depth, 8) * 24}px` }}
              data-testid="snapshot-row"
              data-snapshot-name={s.name}
            >
              <div className="snap-main">
                <div className="snap-title">
                  {depth > 0 && (
                    <span className="snap-branch" aria-hidden="true">
                      └{' '}
                    </span>
                  )}
                  <strong>{s.name}</strong>
                  {s.current && (
                    <span className="snap-marker" title="The VM's current state descends from this snapshot">
                      current
                    </span>
                  )}
                  <span className="snap-kind">{s.vmState ? 'RAM + disk' : 'disk only'}</span>
                </div>
                <div className="muted snap-meta">
                  <time dateTime={s.createdAt}>{new Date(s.createdAt).toLocaleString()}</time>
                  {s.missingIn.length > 0 && (
                    <span className="snap-warning"> · missing in {s.missingIn.join(', ')}</span>
                  )}
                </div>
                {s.description && <p className="snap-description">{s.description}</p>}
              </div>
              <div className="snap-actions">
                <button type="button" data-testid="snapshot-revert" onClick={() => void revert(s)}>
                  Revert
                </button>
                <button
                  type="button"
                  className="danger"
                  data-testid="snapshot-delete"
                  onClick={() => void remove(s)}
                >
                  Delete
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {dialog}
    </div>
  );
}
