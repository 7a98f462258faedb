// Backups of this VM in the default repository ($HANGAR_HOME/backups): back up now (incremental
// when the chain allows, or full), the history with sizes, a verify per point, and a restore to a
// new VM. Other repositories are the CLI's (the app has no folder picker).
import { ProgressStatus } from './ProgressStatus';
import { useCallback, useEffect, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import type { BackupListEntry, BackupVerifyResult } from '../../../../shared/backup';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { formatValue } from './charts';
import { RestoreForm } from './RestoreForm';
import { RestoreInPlace } from './RestoreInPlace';

export function BackupsTab({ vm }: { vm: VmSummary }) {
  const [backups, setBackups] = useState<BackupListEntry[] | null>(null);
  const [verified, setVerified] = useState<Record<string, BackupVerifyResult>>({});
  const [working, setWorking] = useState<string | null>(null);

  const load = useCallback(async () => {
    const l = await attempt('Could not list the backups', () => api('backup.list', { vm: vm.id }));
    if (l) setBackups(l.backups.slice().reverse());
  }, [vm.id]);
  useEffect(() => void load(), [load]);

  const create = async (full: boolean) => {
    setWorking(full ? 'full' : 'backup');
    const r = await attempt('Could not back up', () => api('backup.create', { vm: vm.id, full }));
    setWorking(null);
    if (!r) return;
    notify(
      'info',
      r.kind === 'full' ? 'Full backup made' : 'Incremental backup made',
      `${formatValue('bytes', r.size)}, ${r.consistency}${r.kind === 'full' && r.fullReason ? `; full because ${r.fullReason}` : ''}.`,
    );
    await load();
  };

  const verify = async (id: string) => {
    setWorking(id);
    const r = await attempt('Could not verify the backup', () =>
      api('backup.verify', { backup: id, mode: 'full' }),
    );
    setWorking(null);
    if (r) setVerified((v) => ({ ...v, [id]: r }));
  };

  const disposable = vm.last.disposable
    ? 'A disposable run keeps none of its writes, so there is nothing to back up until it ends.'
    : null;
  const why = vm.busy ? `Wait: ${vm.busy} is under way.` : disposable;

  return (
    <div className="rb-tab" data-testid="backups-tab">
      <ProgressStatus id={vm.id} testId="backup-progress" />
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
        <div className="rb-actions">
          <button
            type="button"
            className="primary"
            data-testid="backup-create"
            disabled={working !== null || why !== null}
            onClick={() => void create(false)}
          >
            {working === 'backup' ? 'Backing up…' : 'Back up now'}
          </button>
          <button
            type="button"
            data-testid="backup-create-full"
            disabled={working !== null || why !== null}
            onClick={() => void create(true)}
          >
            {working === 'full' ? 'Backing up…' : 'Full backup'}
          </button>
        </div>
      </section>
      <section className="rb-section" aria-labelledby="bk-history">
        <h2 id="bk-history">History</h2>
        {backups === null ? (
          <p className="muted">Loading…</p>
        ) : backups.length === 0 ? (
          <p className="muted" data-testid="backup-empty">
            No backups of this VM yet.
          </p>
        ) : (
          <table className="backup-table" data-testid="backup-list">
            <thead>
              <tr>
                <th scope="col">Made</th>
                <th scope="col">Kind</th>
                <th scope="col">Size</th>
                <th scope="col">Consistency</th>
                <th scope="col">Verified</th>
                <th scope="col">
                  <span className="detail-sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {backups.map((b) => {
                const v = verified[b.id];
                return (
                  <tr key={b.id} data-testid="backup-row" data-id={b.id}>
                    <td>
                      <time dateTime={b.completedAt}>{new Date(b.completedAt).toLocaleString()}</time>
                    </td>
                    <td>{b.kind}</td>
                    <td>{formatValue('bytes', b.size)}</td>
                    <td>
                      {b.consistency}
                      {b.live ? ', live' : ''}
                    </td>
                    <td data-testid="backup-verified">
                      {!v ? (
                        <span className="muted">not yet</span>
                      ) : v.ok ? (
                        'intact'
                      ) : (
                        <span className="field-error">
                          damaged: {v.problems.map((p) => `${p.file} (${p.problem})`).join('; ')}
                        </span>
                      )}
                    </td>
                    <td className="backup-actions">
                      <button
                        type="button"
                        data-testid="backup-verify"
                        disabled={working !== null}
                        aria-label={`Verify the backup of ${new Date(b.completedAt).toLocaleString()}`}
                        onClick={() => void verify(b.id)}
                      >
                        {working === b.id ? 'Verifying…' : 'Verify'}
                      </button>
                      <RestoreForm backup={b} vmName={vm.name} />
                      <RestoreInPlace backup={b} vm={vm} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
