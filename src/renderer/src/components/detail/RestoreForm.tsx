// "Restore as new VM…": a name (checked with the engine's own rule), then the backup point is
// restored into a new VM, which is opened. The VM backed up is never touched; the engine reports
// the restore's progress under that VM's id (backup.vmId), as the new VM has none yet. An
// encrypted point asks for its passphrase here, held in this form's state until the restore was
// tried; it cannot be started at once (instant), as a VM cannot run on encrypted backup files.
import { useRef, useState } from 'react';
import type { BackupListEntry } from '../../../../shared/backup';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { navigate } from '../../store/ui';
import { useVms } from '../../store/vms';
import { Dialog } from './Dialog';
import { NewVmNameFields, useNewVmNameError } from './NewVmName';
import { keyOf } from './passphrase';
import { PassphraseField } from './PassphraseField';
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
  const [passphrase, setPassphrase] = useState('');
  const opener = useRef<HTMLButtonElement>(null);
  const error = useNewVmNameError(name);
  const when = new Date(backup.completedAt).toLocaleString();

  const close = () => {
    setOpen(false);
    setPassphrase('');
    requestAnimationFrame(() => opener.current?.focus());
  };
  const restore = async () => {
    if (error || (backup.encrypted && passphrase === '')) return;
    setSaving(true);
    const key = backup.encrypted ? keyOf(passphrase) : null;
    const now = instant && !backup.encrypted;
    const vm = await attempt('Could not restore the backup', () =>
      api('backup.restore', { backup: backup.id, name, instant: now, key }),
    );
    // Used once, right or wrong: a wrong one is typed again, not left in the field.
    setPassphrase('');
    setSaving(false);
    if (!vm) return;
    if (!useVms.getState().vms.some((v) => v.id === vm.id))
      await useVms
        .getState()
        .refresh()
        .catch(() => undefined);
    notify(
      'info',
      now ? 'Started from the backup' : 'Backup restored',
      now
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
            <p className="snap-note">A new VM is made from this backup; {vmName} stays as it is.</p>
            {backup.encrypted ? (
              <p className="muted snap-note" data-testid="restore-instant-encrypted">
                This backup is encrypted, so the new VM cannot start at once (instant restore): a VM cannot
                run on encrypted backup files. It is restored whole first.
              </p>
            ) : (
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
            )}
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
              blocked={backup.encrypted && passphrase === ''}
            >
              {backup.encrypted && (
                <PassphraseField
                  id="restore-passphrase"
                  value={passphrase}
                  onChange={setPassphrase}
                  testId="restore-passphrase"
                  disabled={saving}
                  hint="This backup is encrypted: type the passphrase it was made with (Hangar keeps no copy)."
                />
              )}
            </NewVmNameFields>
            {saving && <ProgressStatus id={backup.vmId} testId="restore-progress" />}
          </form>
        </Dialog>
      )}
    </>
  );
}
