// A drill's answer in the history: booted or not, how long it took, and the details folded away
// (a failure's detail holds the end of the serial console, which is long). The screen kept as
// evidence is a file on the host the page cannot read, so its place is named instead.
import type { BackupDrillResult } from '../../../../shared/backup';

export function DrillOutcome({ result, running }: { result?: BackupDrillResult; running: boolean }) {
  if (running) return <span className="muted">under way…</span>;
  if (!result) return <span className="muted">not yet</span>;
  return (
    <>
      {result.ok ? (
        <span data-testid="drill-ok">booted in {result.seconds} s</span>
      ) : (
        <span className="field-error" data-testid="drill-failed">
          did not boot ({result.seconds} s)
        </span>
      )}
      <details className="drill-details">
        <summary>Details</summary>
        <p className="drill-detail" data-testid="drill-detail">
          Checked {result.checks.join(', ')}: {result.detail}
        </p>
        <p className="drill-detail" data-testid="drill-screen">
          {result.screenshot
            ? `Its screen at the end was kept on this computer as ${result.screenshot}.`
            : 'No screen was kept: the guest had none to show.'}
        </p>
      </details>
    </>
  );
}
