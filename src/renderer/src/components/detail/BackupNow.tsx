// "Back up": now (incremental when the chain allows) or full, optionally encrypted with a
// passphrase. Hangar keeps no passphrase, so an encrypted chain asks for it again for each next
// point; a full backup without it starts a new chain that is not encrypted, and says so first.
// The passphrase stays in this component's state and is cleared once the backup was tried.
import { useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import type { BackupListEntry } from '../../../../shared/backup';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { formatValue } from './charts';
import { keyOf, newPassphraseError } from './passphrase';
import { PassphraseField } from './PassphraseField';

export function BackupNow(p: {
  vm: VmSummary;
  /** The newest point: when it is encrypted, so is the chain the next point joins. */
  newest: BackupListEntry | null;
  working: string | null;
  setWorking: (w: string | null) => void;
  onMade: () => Promise<void>;
}) {
  const [encrypt, setEncrypt] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const chainEncrypted = p.newest?.encrypted === true;
  const newError = !chainEncrypted && encrypt ? newPassphraseError(passphrase, confirm) : null;

  const disposable = p.vm.last.disposable
    ? 'A disposable run keeps none of its writes, so there is nothing to back up until it ends.'
    : null;
  const why = p.vm.busy ? `Wait: ${p.vm.busy} is under way.` : disposable;
  const blocked = p.working !== null || why !== null || newError !== null;

  const create = async (full: boolean) => {
    const key = chainEncrypted || encrypt ? keyOf(passphrase) : null;
    p.setWorking(full ? 'full' : 'backup');
    const r = await attempt('Could not back up', () => api('backup.create', { vm: p.vm.id, full, key }));
    // Used once, right or wrong: the next try types it again rather than it lingering here.
    setPassphrase('');
    setConfirm('');
    p.setWorking(null);
    if (!r) return;
    setEncrypt(false);
    notify(
      'info',
      r.kind === 'full' ? 'Full backup made' : 'Incremental backup made',
      `${formatValue('bytes', r.size)}, ${r.consistency}${r.encrypted ? ', encrypted' : ''}${r.kind === 'full' && r.fullReason ? `; full because ${r.fullReason}` : ''}.`,
    );
    await p.onMade();
  };

  return (
    <section className="rb-section" aria-labelledby="bk-now">
      <h2 id="bk-now">Back up</h2>
      <p>
        A backup is a compressed copy of every disk and the VM&apos;s settings, kept outside the VM in
        Hangar&apos;s backup folder; snapshots live inside the disks and go with them. The first backup is
        full; the next ones hold only what changed since. A running VM is backed up while it runs.
      </p>
      {why && (
        <p className="muted" data-testid="backup-why">
          {why}
        </p>
      )}
      <form
        className="backup-now"
        aria-labelledby="bk-now"
        onSubmit={(e) => {
          e.preventDefault();
          if (!blocked && !(chainEncrypted && passphrase === '')) void create(false);
        }}
      >
        {chainEncrypted ? (
          <PassphraseField
            id="bk-passphrase"
            value={passphrase}
            onChange={setPassphrase}
            testId="backup-passphrase"
            disabled={p.working !== null}
            hint="The backups of this VM are encrypted: the next one needs their passphrase, which Hangar does not keep."
          />
        ) : (
          <>
            <label className="check">
              <input
                type="checkbox"
                data-testid="backup-encrypt"
                checked={encrypt}
                disabled={p.working !== null}
                onChange={(e) => {
                  setEncrypt(e.target.checked);
                  setPassphrase('');
                  setConfirm('');
                }}
              />{' '}
              Encrypt with a passphrase
            </label>
            {encrypt && (
              <>
                <PassphraseField
                  id="bk-passphrase"
                  label="Passphrase"
                  value={passphrase}
                  onChange={setPassphrase}
                  testId="backup-passphrase"
                  autoComplete="new-password"
                  disabled={p.working !== null}
                  errorId={newError ? 'bk-passphrase-error' : null}
                  hint={`Hangar keeps no copy of it: without it the backup cannot be restored.${p.newest ? ' An encrypted chain starts with a full backup, so this one is full.' : ''}`}
                />
                <PassphraseField
                  id="bk-passphrase-confirm"
                  label="Confirm passphrase"
                  value={confirm}
                  onChange={setConfirm}
                  testId="backup-passphrase-confirm"
                  autoComplete="new-password"
                  disabled={p.working !== null}
                  errorId={newError ? 'bk-passphrase-error' : null}
                />
                {newError && (
                  <p id="bk-passphrase-error" className="field-error" data-testid="backup-passphrase-error">
                    {newError}
                  </p>
                )}
              </>
            )}
          </>
        )}
        <div className="rb-actions">
          <button
            type="submit"
            className="primary"
            data-testid="backup-create"
            disabled={blocked || (chainEncrypted && passphrase === '')}
            aria-describedby={chainEncrypted ? 'bk-passphrase-hint' : undefined}
          >
            {p.working === 'backup' ? 'Backing up…' : 'Back up now'}
          </button>
          <button
            type="button"
            data-testid="backup-create-full"
            disabled={blocked}
            aria-describedby={chainEncrypted ? 'bk-full-hint' : undefined}
            onClick={() => void create(true)}
          >
            {p.working === 'full' ? 'Backing up…' : 'Full backup'}
          </button>
        </div>
        {chainEncrypted && (
          <p id="bk-full-hint" className="muted" data-testid="backup-full-hint">
            {passphrase === ''
              ? 'A full backup without the passphrase starts a new chain that is not encrypted.'
              : 'A full backup starts a new chain, encrypted with the passphrase typed above.'}
          </p>
        )}
      </form>
    </section>
  );
}
