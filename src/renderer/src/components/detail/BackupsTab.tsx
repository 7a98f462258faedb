// Backups of this VM in the default repository ($HANGAR_HOME/backups): back up now (incremental
// when the chain allows, or full), the history with sizes, a verify and a boot drill per point,
// restores (to a new VM, or into this one), and retention. Other repositories are the CLI's (the
// app has no folder picker). One action runs at a time: `working` names it. Encrypted points ask
// for their passphrase in each action that reads them; no passphrase outlives its action.
import { ProgressStatus } from './ProgressStatus';
import { useCallback, useEffect, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import type { BackupDrillResult, BackupListEntry, BackupVerifyResult } from '../../../../shared/backup';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { useAskPassphrase } from './AskPassphrase';
import { BackupNow } from './BackupNow';
import { BackupRow } from './BackupRow';
import { DrillSection } from './DrillSection';
import { PruneForm } from './PruneForm';

export function BackupsTab({ vm }: { vm: VmSummary }) {
  const [backups, setBackups] = useState<BackupListEntry[] | null>(null);
  const [verified, setVerified] = useState<Record<string, BackupVerifyResult>>({});
  const [drills, setDrills] = useState<Record<string, BackupDrillResult>>({});
  const [check, setCheck] = useState('');
  const [working, setWorking] = useState<string | null>(null);
  const [passphraseDialog, askPassphrase] = useAskPassphrase();
  const drilling = working?.startsWith('drill:')
    ? backups?.find((b) => `drill:${b.id}` === working)
    : undefined;

  const load = useCallback(async () => {
    const l = await attempt('Could not list the backups', () => api('backup.list', { vm: vm.id }));
    if (l) setBackups(l.backups.slice().reverse());
  }, [vm.id]);
  useEffect(() => void load(), [load]);

  // An encrypted point's bytes can only be read with its key: a full verify and a drill ask first.
  const keyFor = async (b: BackupListEntry, what: string, confirmLabel: string) => {
    if (!b.encrypted) return { key: null };
    const passphrase = await askPassphrase({
      title: `${what} the backup of ${new Date(b.completedAt).toLocaleString()}`,
      message: <p>Its disks are encrypted: reading them needs the passphrase they were made with.</p>,
      confirmLabel,
    });
    return passphrase === null ? null : { key: { passphrase } };
  };

  const verify = async (b: BackupListEntry) => {
    const k = await keyFor(b, 'Verify', 'Verify');
    if (!k) return;
    setWorking(`verify:${b.id}`);
    const r = await attempt('Could not verify the backup', () =>
      api('backup.verify', { backup: b.id, mode: 'full', key: k.key }),
    );
    setWorking(null);
    if (r) setVerified((v) => ({ ...v, [b.id]: r }));
  };

  const drill = async (b: BackupListEntry) => {
    const k = await keyFor(b, 'Drill', 'Drill');
    if (!k) return;
    setWorking(`drill:${b.id}`);
    const r = await attempt('Could not drill the backup', () =>
      api('backup.drill', { backup: b.id, for: check.trim() ? [check.trim()] : [], key: k.key }),
    );
    setWorking(null);
    if (!r) return;
    setDrills((d) => ({ ...d, [b.id]: r }));
    notify(
      r.ok ? 'info' : 'error',
      r.ok ? 'The backup boots' : 'The backup did not boot',
      r.ok ? `It passed ${r.checks.join(', ')} in ${r.seconds} s.` : r.detail.slice(0, 500),
    );
  };

  return (
    <div className="rb-tab backups-tab" data-testid="backups-tab">
      <ProgressStatus id={vm.id} testId="backup-progress" />
      <BackupNow
        vm={vm}
        newest={backups?.[0] ?? null}
        working={working}
        setWorking={setWorking}
        onMade={load}
      />
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
                  onVerify={() => void verify(b)}
                  onDrill={() => void drill(b)}
                />
              ))}
            </tbody>
          </table>
        )}
      </section>
      {backups && backups.length > 0 && (
        <PruneForm vm={vm} backups={backups} working={working} setWorking={setWorking} onPruned={load} />
      )}
      {passphraseDialog}
    </div>
  );
}
