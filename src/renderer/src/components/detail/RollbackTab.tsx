// Rollback beyond snapshots: disposable runs, templates with linked clones, and a baseline to
// reset to in an instant. Each section says what its buttons do before anyone presses them.
import { ProgressStatus } from './ProgressStatus';
import type { VmSummary } from '../../../../shared/api-types';
import { useVmDetail } from './hooks';
import { BaselinePanel } from './BaselinePanel';
import { TemplatePanel } from './TemplatePanel';

export function RollbackTab({ vm }: { vm: VmSummary }) {
  const detail = useVmDetail(vm.id);
  if (!detail) return <p className="muted">Loading…</p>;
  const config = detail.config;

  return (
    <div className="rb-tab" data-testid="rollback-tab">
      <ProgressStatus id={vm.id} testId="rollback-progress" />
      {/* A template never runs, so disposable runs are not its business. */}
      {!config.template && (
        <section className="rb-section" aria-labelledby="rb-disposable">
          <h2 id="rb-disposable">Disposable runs</h2>
          <p>
            <strong>Start disposable</strong> (at the top) runs the VM on a temporary layer: every write is
            thrown away at shutdown, and the VM starts next time exactly as it was. Snapshots are off during
            such a run.
          </p>
          {vm.last.disposable && (
            <p className="rb-status rb-status-warn" role="status">
              Running disposable now: what this run writes is gone when it stops.
            </p>
          )}
        </section>
      )}
      <TemplatePanel vm={vm} config={config} />
      <BaselinePanel vm={vm} config={config} />
    </div>
  );
}
