// Backups of this VM in the default repository ($HANGAR_HOME/backups): back up now (incremental
// when the chain allows, or full), the history with sizes, a verify and a boot drill per point,
// restores (to a new VM, or into this one), and retention. Other repositories are the CLI's (the
// app has no folder picker). One action runs at a time: `working` names it.
import { ProgressStatus } from './ProgressStatus';
import { useCallback, useEffect, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import type { BackupDrillResult, BackupListEntry, BackupVerifyResult } from '../../../../shared/backup';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { BackupRow } from './BackupRow';
import { formatValue } from './charts';
import { DrillSection } from './DrillSection';
import { PruneForm } from './PruneForm';

export function BackupsTab({ vm }: { vm: VmSummary }) {
  const [backups, setBackups] = useState<BackupListEntry[] | null>(null);
  const [verified, setVerified] = useState<Record<string, BackupVerifyResult>>({});
  const [drills, setDrills] = useState<Record<string, BackupDrillResult>>({});
  const [check, setCheck] = useState('');
  const [working, setWorking] = useState<string | null>(null);
  const drilling = working?.startsWith('drill:')
    ? backups?.find((b) => `drill:${b.id}` === working)
    : undefined;

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
    setWorking(`verify:${id}`);
    const r = await attempt('Could not verify the backup', () =>
      api('backup.verify', { backup: id, mode: 'full' }),
    );
    setWorking(null);
    if (r) setVerified((v) => ({ ...v, [id]: r }));
  };

  const drill = async (id: string) => {
    setWorking(`drill:${id}`);
    const r = await attempt('Could not drill the backup', () =>
      api('backup.drill', { backup: id, for: check.trim() ? [check.trim()] : [] }),
    );
    setWorking(null);
    if (!r) return;
    setDrills((d) => ({ ...d, [id]: r }));
    notify(
      r.ok ? 'info' : 'error',
      r.ok ? 'The backup boots' : 'The backup did not boot',
      r.ok ? `It passed ${r.checks.join(', ')} in ${r.seconds} s.` : r.detail.slice(0, 500),
    );
  };

  const disposable = vm.last.disposable
    ? 'A disposable run keeps none of its writes, so there is nothing to back up until it ends.'
    : null;
  const why = vm.busy ? `Wait: ${vm.busy} is under way.` : disposable;

  return (
    <div className="rb-tab backups-tab" data-testid="backups-tab">
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
      <DrillSection
        vm={vm}
        check={check}
        setCheck={setCheck}
        drilling={drilling ? new Date(drilling.completedAt).toLocaleString() : null}
        disabled={working !== null}
      />
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
                <th scope="col">Boot drill</th>
                <th scope="col">
                  <span className="detail-sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {backups.map((b) => (
                <BackupRow
                  key={b.id}
                  backup={b}
                  vm={vm}
                  verified={verified[b.id]}
                  drill={drills[b.id]}
                  working={working}
                  onVerify={() => void verify(b.id)}
                  onDrill={() => void drill(b.id)}
                />
              ))}
            </tbody>
          </table>
        )}
      </section>
      {backups && backups.length > 0 && (
        <PruneForm vm={vm} backups={backups} working={working} setWorking={setWorking} onPruned={load} />
      )}
    </div>
  );
}
