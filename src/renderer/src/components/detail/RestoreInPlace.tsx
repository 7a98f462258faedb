// "Restore into this VM…": the backup point goes back into the VM it was taken of, once it is
// stopped and the user said yes; what the disks hold now is kept as a snapshot, which the notice
// names, so a revert undoes the restore. For an encrypted point the same question also asks for
// its passphrase, which goes with this one call.
import type { BackupListEntry } from '../../../../shared/backup';
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { useAskPassphrase } from './AskPassphrase';
import { useConfirm } from './Confirm';

export function RestoreInPlace({
  backup,
  vm,
  disabled = false,
}: {
  backup: BackupListEntry;
  vm: VmSummary;
  disabled?: boolean;
}) {
  const [dialog, ask] = useConfirm();
  const [passphraseDialog, askPassphrase] = useAskPassphrase();
  const when = new Date(backup.completedAt).toLocaleString();
  const stopped = vm.state === 'stopped';
  const restore = async () => {
    const question = {
      title: `Restore ${vm.name} to ${when}?`,
      message: (
        <p>
          The disks of {vm.name} get back what they held on {when}. What they hold now is kept as a snapshot
          first, so reverting to it undoes this. The next backup of {vm.name} is a full one.
        </p>
      ),
      confirmLabel: 'Restore into this VM',
    };
    let key: { passphrase: string } | null = null;
    if (backup.encrypted) {
      const passphrase = await askPassphrase({ ...question, danger: true });
      if (passphrase === null) return;
      key = { passphrase };
    } else if (!(await ask(question))) return;
    const r = await attempt('Could not restore the backup', () =>
      api('backup.restoreInPlace', { backup: backup.id, key }),
    );
    if (r)
      notify(
        'info',
        'Backup restored in place',
        `${r.vm.name} is as it was on ${when}. What it held before is the snapshot "${r.keptAs}".`,
      );
  };
  return (
    <>
      <button
        type="button"
        data-testid="backup-restore-in-place"
        disabled={!stopped || disabled}
        title={
          stopped ? undefined : `Stop ${vm.name} first: its disks must not change while they are restored.`
        }
        aria-label={`Restore into this VM (${vm.name}): the backup of ${when}`}
        onClick={() => void restore()}
      >
        Restore into this VM…
      </button>
      {dialog}
      {passphraseDialog}
    </>
  );
}
