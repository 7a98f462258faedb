// One backup point in the history: what it is, what verify and the boot drill found, and its
// actions. While any action of the tab runs, the others wait (`working` is that action).
import type { VmSummary } from '../../../../shared/api-types';
import type { BackupDrillResult, BackupListEntry, BackupVerifyResult } from '../../../../shared/backup';
import { formatValue } from './charts';
import { DrillOutcome } from './DrillOutcome';
import { RestoreForm } from './RestoreForm';
import { RestoreInPlace } from './RestoreInPlace';

export function BackupRow(p: {
  backup: BackupListEntry;
  vm: VmSummary;
  verified?: BackupVerifyResult;
  drill?: BackupDrillResult;
  working: string | null;
  onVerify: () => void;
  onDrill: () => void;
}) {
  const b = p.backup;
  const v = p.verified;
  const when = new Date(b.completedAt).toLocaleString();
  const busy = p.working !== null;
  const verifying = p.working === `verify:${b.id}`;
  const drilling = p.working === `drill:${b.id}`;
  return (
    <tr data-testid="backup-row" data-id={b.id}>
      <td>
        <time dateTime={b.completedAt}>{when}</time>
      </td>
      <td>
        {b.kind}
        {/* Words, not only a lock: read out in the row, and its actions will ask for the passphrase. */}
        {b.encrypted && (
          <>
            {' '}
            <span className="backup-encrypted" data-testid="backup-encrypted">
              encrypted
            </span>
          </>
        )}
      </td>
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
            damaged: {v.problems.map((x) => `${x.file} (${x.problem})`).join('; ')}
          </span>
        )}
      </td>
      <td data-testid="backup-drilled">
        <DrillOutcome result={p.drill} running={drilling} />
      </td>
      <td className="backup-actions">
        <button
          type="button"
          data-testid="backup-verify"
          disabled={busy}
          // The name starts with what the button shows, as speech users say what they see.
          aria-label={`${verifying ? 'Verifying' : 'Verify'} the backup of ${when}`}
          onClick={p.onVerify}
        >
          {verifying ? 'Verifying…' : 'Verify'}
        </button>
        <button
          type="button"
          data-testid="backup-drill"
          disabled={busy}
          aria-label={`${drilling ? 'Drilling' : 'Drill'} the backup of ${when}: boot it in a throwaway VM`}
          onClick={p.onDrill}
        >
          {drilling ? 'Drilling…' : 'Drill'}
        </button>
        <RestoreForm backup={b} vmName={p.vm.name} disabled={busy} />
        <RestoreInPlace backup={b} vm={p.vm} disabled={busy} />
      </td>
    </tr>
  );
}
