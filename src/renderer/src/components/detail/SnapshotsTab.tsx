// Snapshots: the tree with where the VM is now, "Take snapshot", and revert/delete with a
// confirmation. The list is read again whenever the engine reports a config change for this VM
// (snapshots live in vm.json).
import { ProgressStatus } from './ProgressStatus';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';
import { useVms } from '../../store/vms';
import { useVmConfig } from '../vm-config';
import { useConfirm } from './Confirm';
import { childCount, isForeign, treeLines, type SnapshotItem } from './snapshot-tree';
import { Gutter, SnapshotRow, type RowActions } from './SnapshotRow';
import { TakeSnapshotForm } from './TakeSnapshotForm';

const DISPOSABLE_LOCK =
  'The VM is in a disposable run: its writes are thrown away at shutdown, so snapshots are off until it stops.';
const TEMPLATE_LOCK =
  'This VM is a template: its disks are the bases of linked clones and must not change. Turn it back into a VM (Rollback tab) to use its snapshots.';

export function SnapshotsTab({ vm }: { vm: VmSummary }) {
  const id = vm.id;
  const version = useVms((s) => s.configVersion[id] ?? 0);
  const [list, setList] = useState<SnapshotItem[] | null>(null);
  const [taking, setTaking] = useState(false);
  const takeButton = useRef<HTMLButtonElement>(null);
  // The form goes away on save or cancel: the keyboard goes back to the button that opened it.
  const closeForm = () => {
    setTaking(false);
    requestAnimationFrame(() => takeButton.current?.focus());
  };
  const [dialog, ask] = useConfirm();

  const load = useCallback(async () => {
    const l = await attempt('Could not list snapshots', () => api('snapshot.list', { vm: id }));
    if (l) setList(l);
  }, [id]);
  useEffect(() => {
    void load();
  }, [load, version]);

  const disposable = vm.last.disposable === true;
  const template = useVmConfig(id)?.template === true;
  const live = vm.state === 'running' || vm.state === 'paused';
  // Why nothing may change the snapshots now; shown next to the buttons it disables.
  const lockReason = disposable ? DISPOSABLE_LOCK : template ? TEMPLATE_LOCK : null;
  const locked = lockReason ?? (vm.busy ? `Wait: ${vm.busy} is under way.` : null);

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
    const kids = list ? childCount(list, s.id) : 0;
    const yes = await ask({
      title: `Delete snapshot "${s.name}"?`,
      message: (
        <>
          <p>The VM itself is not changed, but you can no longer go back to this point.</p>
          <p>
            {kids > 0
              ? `The ${kids === 1 ? 'snapshot' : `${kids} snapshots`} taken from it ${kids === 1 ? 'is' : 'are'} kept, with everything they need: they move up to its parent.`
              : 'Snapshots taken from it, if any, are kept.'}
          </p>
        </>
      ),
      confirmLabel: 'Delete',
    });
    if (!yes) return;
    await attempt('Could not delete the snapshot', () => api('snapshot.delete', { vm: id, snapshot: s.id }));
    void load();
  };

  const actions: RowActions = {
    vmId: id,
    revert: (s) => void revert(s),
    remove: (s) => void remove(s),
    locked,
    live,
  };
  const lines = list ? treeLines(list) : [];
  const foreign = list ? list.filter(isForeign) : [];
  const current = list?.find((s) => s.current) ?? null;

  return (
    <div className="snap-tab">
      <div className="console-toolbar">
        <button
          type="button"
          className="primary"
          ref={takeButton}
          data-testid="snapshot-take"
          aria-expanded={taking}
          disabled={lockReason !== null}
          title={lockReason ?? undefined}
          onClick={() => setTaking((t) => !t)}
        >
          Take snapshot…
        </button>
        <span className="console-spacer" />
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {lockReason && (
        <p className="detail-hint detail-locked" data-testid="snapshot-locked">
          {lockReason}
        </p>
      )}
      {taking && !lockReason && (
        <TakeSnapshotForm
          vm={vm}
          onDone={() => {
            closeForm();
            void load();
          }}
          onCancel={closeForm}
        />
      )}
      <ProgressStatus id={vm.id} testId="snapshot-progress" />
      {list === null ? (
        <p className="muted">Loading snapshots…</p>
      ) : list.length === 0 ? (
        <p className="muted" data-testid="snapshot-empty">
          No snapshots yet. Take one before a risky change; reverting to it takes a second.
        </p>
      ) : (
        <ul className="snap-list" aria-label="Snapshots">
          {lines.map((line) =>
            line.snapshot ? (
              <SnapshotRow key={line.snapshot.id} line={line} actions={actions} />
            ) : (
              <li
                key="here"
                className="snap-node"
                data-testid="snapshot-current-marker"
                data-after={current?.name ?? ''}
              >
                <Gutter line={line} here />
                <div className="snap-here">
                  <strong>You are here</strong>
                  <span className="muted">
                    {current
                      ? `the VM now, based on “${current.name}”`
                      : 'the VM now, not based on any snapshot'}
                    {disposable ? ' (a disposable run: its changes go away at shutdown)' : ''}
                  </span>
                </div>
              </li>
            ),
          )}
          {foreign.map((s) => (
            <SnapshotRow
              key={s.id}
              line={{ snapshot: s, cells: [], up: false, down: false }}
              actions={actions}
            />
          ))}
        </ul>
      )}
      {dialog}
    </div>
  );
}
