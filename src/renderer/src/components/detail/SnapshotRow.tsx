// One row of the snapshot tree: the lines beside it, what kind of snapshot it is, and its actions.
// Renaming and describing happen in place; only vm.json changes, so it works in any VM state.
import { useRef, useState } from 'react';
import { ApiParams } from '../../../../shared/api';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';
import { isForeign, type SnapshotItem, type TreeLine } from './snapshot-tree';
import { ramLabel, sizeLabel, SnapshotThumb } from './SnapshotThumb';

const snapshotName = ApiParams['snapshot.create'].shape.name;

const CONSISTENCY = {
  frozen: {
    label: 'filesystems frozen',
    tip: 'The guest agent froze the guest’s filesystems while the disks were saved, so they are as after a clean sync.',
  },
  crash: {
    label: 'crash-consistent',
    tip: 'No guest agent answered, so the disks were saved as they were at that instant, as after a power cut: journaling filesystems recover, but writes still in the guest’s memory are not in it.',
  },
} as const;

export function Gutter({ line, here = false }: { line: TreeLine; here?: boolean }) {
  return (
    <span className="snap-gutter" aria-hidden="true">
      {line.cells.map((c, i) => (
        <span key={i} className={`snap-cell snap-cell-${c}`} />
      ))}
      <span
        className={`snap-cell snap-dot${here ? ' snap-dot-here' : ''}${line.up ? ' snap-up' : ''}${line.down ? ' snap-down' : ''}`}
      >
        <span className="snap-dot-mark" />
      </span>
    </span>
  );
}

export interface RowActions {
  vmId: string;
  revert(s: SnapshotItem): void;
  remove(s: SnapshotItem): void;
  /** Why revert and delete cannot be used now (a disposable run, an operation under way). */
  locked: string | null;
  live: boolean;
}

export function SnapshotRow({ line, actions }: { line: TreeLine; actions: RowActions }) {
  const s = line.snapshot!;
  const [editing, setEditing] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const foreign = isForeign(s);
  const close = () => {
    setEditing(false);
    // Back to the button that opened the editor, so keyboard users keep their place.
    requestAnimationFrame(() => editButton.current?.focus());
  };
  const foreignTip = 'Made outside Hangar (qemu-img, virsh): manage it with the tool that made it.';
  const revertBlock =
    actions.locked ??
    (foreign
      ? foreignTip
      : !s.vmState && actions.live
        ? 'This snapshot holds disks only: stop the VM to revert to it.'
        : s.missingIn.length > 0
          ? 'Some disks lack this snapshot, so it cannot be restored.'
          : null);
  const deleteBlock = actions.locked ?? (foreign ? foreignTip : null);

  return (
    <li
      className="snap-node"
      data-testid="snapshot-row"
      data-snapshot-name={s.name}
      aria-current={s.current ? 'true' : undefined}
    >
      <Gutter line={line} />
      <div className={`snap-row${s.current ? ' snap-current' : ''}`}>
        {!editing && <SnapshotThumb vmId={actions.vmId} snapshot={s} />}
        {editing ? (
          <EditForm snapshot={s} vmId={actions.vmId} onDone={close} />
        ) : (
          <div className="snap-main">
            <div className="snap-title">
              <strong className="snap-name">{s.name}</strong>
              <span
                className="snap-kind"
                title={
                  s.vmState
                    ? 'Taken while the VM ran: its memory was saved too, so a revert resumes the running guest.'
                    : 'The disks only: after a revert the VM boots from them.'
                }
              >
                {s.vmState ? 'RAM + disk' : 'disk only'}
              </span>
              {s.consistency && (
                <span
                  className={`snap-kind snap-consistency-${s.consistency}`}
                  data-testid="snapshot-consistency"
                  title={CONSISTENCY[s.consistency].tip}
                >
                  {CONSISTENCY[s.consistency].label}
                </span>
              )}
              {foreign && (
                <span className="snap-kind snap-foreign" title={foreignTip}>
                  made outside Hangar
                </span>
              )}
            </div>
            <div className="muted snap-meta">
              {foreign ? (
                <span>tag {s.tag} · date unknown</span>
              ) : (
                <time dateTime={s.createdAt}>{new Date(s.createdAt).toLocaleString()}</time>
              )}
              {s.ramBytes > 0 && <span data-testid="snapshot-ram"> · {ramLabel(s.ramBytes)}</span>}
              {s.ownBytes !== null && (
                <span data-testid="snapshot-own" title="The space deleting this snapshot would give back">
                  {' '}
                  · {sizeLabel(s.ownBytes)} of its own
                </span>
              )}
              {s.missingIn.length > 0 && (
                <span className="snap-warning"> · missing in {s.missingIn.join(', ')}</span>
              )}
            </div>
            {s.description && !foreign && <p className="snap-description">{s.description}</p>}
          </div>
        )}
        {!editing && (
          <div className="snap-actions">
            <button
              type="button"
              ref={editButton}
              data-testid="snapshot-rename"
              disabled={foreign}
              title={foreign ? foreignTip : 'Rename or describe this snapshot'}
              aria-label={`Rename or describe ${s.name}`}
              onClick={() => setEditing(true)}
            >
              Edit
            </button>
            <button
              type="button"
              data-testid="snapshot-revert"
              disabled={revertBlock !== null}
              title={revertBlock ?? `Go back to ${s.name}`}
              onClick={() => actions.revert(s)}
            >
              Revert
            </button>
            <button
              type="button"
              className="danger"
              data-testid="snapshot-delete"
              disabled={deleteBlock !== null}
              title={deleteBlock ?? `Delete ${s.name}; snapshots taken from it are kept`}
              onClick={() => actions.remove(s)}
            >
              Delete
            </button>
          </div>
        )}
      </div>
    </li>
  );
}

function EditForm({ snapshot, vmId, onDone }: { snapshot: SnapshotItem; vmId: string; onDone: () => void }) {
  const [name, setName] = useState(snapshot.name);
  const [description, setDescription] = useState(snapshot.description);
  const [saving, setSaving] = useState(false);
  const check = snapshotName.safeParse(name.trim());
  const problem = check.success ? null : (check.error.issues[0]?.message ?? 'Not a usable name.');
  const nameId = `snap-edit-name-${snapshot.id}`;
  const descId = `snap-edit-desc-${snapshot.id}`;

  const save = async () => {
    if (problem) return;
    const change = {
      ...(name.trim() !== snapshot.name ? { name: name.trim() } : {}),
      ...(description !== snapshot.description ? { description } : {}),
    };
    if (Object.keys(change).length === 0) return onDone();
    setSaving(true);
    const saved = await attempt('Could not change the snapshot', () =>
      api('snapshot.edit', { vm: vmId, snapshot: snapshot.id, ...change }),
    );
    setSaving(false);
    if (saved) onDone();
  };

  return (
    <form
      className="snap-edit"
      aria-label={`Rename or describe ${snapshot.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          onDone();
        }
      }}
    >
      <label htmlFor={nameId}>Name</label>
      <input
        id={nameId}
        data-testid="snapshot-rename-input"
        value={name}
        maxLength={200}
        autoFocus
        aria-invalid={problem !== null}
        aria-describedby={problem ? `${nameId}-error` : undefined}
        onChange={(e) => setName(e.target.value)}
      />
      {problem && (
        <span id={`${nameId}-error`} className="field-error snap-edit-error">
          {problem}
        </span>
      )}
      <label htmlFor={descId}>Description</label>
      <textarea
        id={descId}
        rows={2}
        maxLength={4000}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
      />
      <div className="snap-form-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button
          type="submit"
          className="primary"
          data-testid="snapshot-rename-save"
          disabled={problem !== null || saving}
        >
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}
