// The list's two dialogs, rendered once at list level rather than inside a card: a card can be
// scrolled out of the virtualized grid (and unmounted) while its dialog is still open.
import { useState } from 'react';
import { ApiParams } from '../../../../shared/api';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { BulkDialog } from './BulkDialog';
import { Dialog } from './Dialog';
import { closeDialog, useListUi } from './view';

const snapshotName = ApiParams['snapshot.create'].shape.name;

export function ListDialogs() {
  const dialog = useListUi((s) => s.dialog);
  if (!dialog) return null;
  if (dialog.kind === 'force-stop') return <ForceStopDialog id={dialog.id} name={dialog.name} />;
  if (dialog.kind === 'bulk') return <BulkDialog action={dialog.action} ids={dialog.vms.map((v) => v.id)} />;
  return <SnapshotDialog key={dialog.id} id={dialog.id} name={dialog.name} />;
}

function ForceStopDialog({ id, name }: { id: string; name: string }) {
  const confirm = () => {
    closeDialog();
    void attempt(`Could not force-stop ${name}`, () => api('vm.stop', { vm: id, force: true }));
  };
  return (
    <Dialog title={`Force stop ${name}?`} onClose={closeDialog} testId="confirm-dialog">
      <p>
        This cuts the power: the guest gets no chance to save its work, and unsaved data in it is lost. Use
        Shut down to ask the guest to power off by itself.
      </p>
      <div className="list-dialog-actions">
        <button type="button" onClick={closeDialog} data-testid="confirm-no" autoFocus>
          Cancel
        </button>
        <button type="button" className="danger" onClick={confirm} data-testid="confirm-yes">
          Force stop
        </button>
      </div>
    </Dialog>
  );
}

function SnapshotDialog({ id, name }: { id: string; name: string }) {
  const [text, setText] = useState('');
  const [touched, setTouched] = useState(false);
  const check = snapshotName.safeParse(text);
  const problem = check.success ? null : (check.error.issues[0]?.message ?? 'Not a usable name.');

  const confirm = () => {
    if (problem) return;
    closeDialog();
    // The engine reports progress on the card; a success note says where the snapshot went.
    void attempt(`Could not take a snapshot of ${name}`, () =>
      api('snapshot.create', { vm: id, name: text }),
    ).then((snap) => {
      if (snap) notify('info', 'Snapshot taken', `${snap.name} of ${name}`);
    });
  };

  return (
    <Dialog title={`Snapshot of ${name}`} onClose={closeDialog} testId="snapshot-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setTouched(true);
          confirm();
        }}
      >
        <label className="list-dialog-field">
          <span>Snapshot name</span>
          <input
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setTouched(true);
            }}
            placeholder="before upgrade"
            maxLength={200}
            autoFocus
            aria-invalid={touched && problem !== null}
            aria-describedby={touched && problem ? 'snapshot-name-error' : undefined}
            data-testid="snapshot-name-input"
          />
        </label>
        {touched && problem && (
          <span id="snapshot-name-error" className="field-error" data-testid="field-error">
            {problem}
          </span>
        )}
        <div className="list-dialog-actions">
          <button type="button" onClick={closeDialog} data-testid="confirm-no">
            Cancel
          </button>
          <button
            type="submit"
            className="primary"
            disabled={problem !== null}
            data-testid="snapshot-confirm"
          >
            Take snapshot
          </button>
        </div>
      </form>
    </Dialog>
  );
}
