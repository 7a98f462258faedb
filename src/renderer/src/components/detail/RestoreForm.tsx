// "Restore as new VM…": a name (checked with the engine's own rule), then the backup point is
// restored into a new VM, which is opened. The VM backed up is never touched; the engine reports
// the restore's progress under that VM's id (backup.vmId), as the new VM has none yet.
import { useRef, useState } from 'react';
import type { BackupListEntry } from '../../../../shared/backup';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { navigate } from '../../store/ui';
import { useVms } from '../../store/vms';
import { Dialog } from './Dialog';
import { NewVmNameFields, useNewVmNameError } from './NewVmName';
import { ProgressStatus } from './ProgressStatus';

export function RestoreForm({
  backup,
  vmName,
  disabled = false,
}: {
  backup: BackupListEntry;
  vmName: string;
  disabled?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [saving, setSaving] = useState(false);
  const [instant, setInstant] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const error = useNewVmNameError(name);
  const when = new Date(backup.completedAt).toLocaleString();

  const close = () => {
    setOpen(false);
    requestAnimationFrame(() => opener.current?.focus());
  };
  const restore = async () => {
    if (error) return;
    setSaving(true);
    const vm = await attempt('Could not restore the backup', () =>
      api('backup.restore', { backup: backup.id, name, instant }),
    );
    setSaving(false);
    if (!vm) return;
    if (!useVms.getState().vms.some((v) => v.id === vm.id))
      await useVms
        .getState()
        .refresh()
        .catch(() => undefined);
    notify(
      'info',
      instant ? 'Started from the backup' : 'Backup restored',
      instant
        ? `${vm.name} runs on the backup of ${when}; its data is copied in while it runs (its Log tab says when).`
        : `${vm.name} holds ${vmName} as it was on ${when}.`,
    );
    navigate({ kind: 'vm', id: vm.id, tab: 'console' });
  };

  return (
    <>
      <button
        type="button"
        ref={opener}
        data-testid="backup-restore"
        disabled={disabled}
        aria-label={`Restore as new VM: the backup of ${when}`}
        onClick={() => {
          setName(`${vmName} restored`.slice(0, 100));
          setOpen(true);
        }}
      >
        Restore as new VM…
      </button>
      {open && (
        <Dialog title={`Restore ${vmName} as it was on ${when}`} onClose={close} testId="restore-dialog">
          <form
            className="snap-form"
            onSubmit={(e) => {
              e.preventDefault();
              void restore();
            }}
          >
            <p>A new VM is made from this backup; {vmName} stays as it is.</p>
            <label className="check">
              <input
                type="checkbox"
                data-testid="restore-instant"
                checked={instant}
                disabled={saving}
                onChange={(e) => setInstant(e.target.checked)}
              />{' '}
              Start it now (instant restore): it runs on the backup while its data is copied in, and the
              backup cannot be pruned until that is done
            </label>
            <NewVmNameFields
              id="restore-name"
              label="Name of the new VM"
              name={name}
              setName={setName}
              error={error}
              saving={saving}
              onCancel={close}
              submit={{ label: 'Restore', busy: 'Restoring…', testId: 'restore-confirm' }}
              inputTestId="restore-name"
            />
            {saving && <ProgressStatus id={backup.vmId} testId="restore-progress" />}
          </form>
        </Dialog>
      )}
    </>
  );
}
