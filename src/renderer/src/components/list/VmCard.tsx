// One VM as a card. Every bit of user text (the name, engine messages) is rendered as React text,
// never as HTML. Memoized: an event about one VM leaves the other cards' objects, and so their
// rendering, untouched.
import { memo } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { useVms } from '../../store/vms';
import { navigate } from '../../store/ui';
import { toggleSelected, useListUi } from './view';
import { AccessLinks } from './AccessLinks';
import { CardActions } from './CardActions';
import { memoryLabel, osGlyph, osLabel, stateLabel } from './filter';
import { ReadinessLine } from './ReadinessLine';
import { Sparkline } from './Sparkline';
import { Thumbnail } from './Thumbnail';

function Activity({ vm }: { vm: VmSummary }) {
  const progress = useVms((s) => s.progress[vm.id]);
  if (progress) {
    return (
      <div className="card-activity" data-testid="card-progress">
        <span className="card-activity-text">
          {progress.operation}: {progress.step}
        </span>
        <progress max={100} value={progress.percent} aria-label={`${progress.operation} of ${vm.name}`} />
      </div>
    );
  }
  if (vm.busy) {
    return (
      <div className="card-activity" data-testid="card-busy">
        <span className="card-spinner" aria-hidden="true" />
        <span className="card-activity-text">{vm.busy}…</span>
      </div>
    );
  }
  if (vm.error) {
    return (
      <p className="card-problem" title={vm.error}>
        {vm.error}
      </p>
    );
  }
  if (vm.state === 'crashed') {
    const reason = vm.last.reason ?? 'QEMU stopped unexpectedly.';
    return (
      <p className="card-problem" title={vm.last.logTail ?? reason} data-testid="card-crash-reason">
        {reason}
      </p>
    );
  }
  return <ReadinessLine vm={vm} />;
}

export const VmCard = memo(function VmCard({ vm, accel }: { vm: VmSummary; accel: string | null }) {
  const selected = useListUi((s) => s.selected.includes(vm.id));
  return (
    <article
      className={`card${vm.last.disposable ? ' card-disposable' : ''}`}
      data-testid="vm-card"
      data-vm-id={vm.id}
      data-state={vm.state}
      aria-label={vm.name}
    >
      <div className="card-screen-wrap">
        <Thumbnail id={vm.id} name={vm.name} state={vm.state} />
        {/* On the screen, where the eye goes first, and without squeezing the name. */}
        <span className="card-flags">
          {vm.last.disposable && (
            <span
              className="badge badge-disposable"
              data-testid="disposable-badge"
              title="A disposable run: every write is thrown away at shutdown"
            >
              Disposable
            </span>
          )}
          {vm.template && (
            <span
              className="badge badge-template"
              data-testid="template-badge"
              title="A template: the base of linked clones, never started itself"
            >
              Template
            </span>
          )}
        </span>
      </div>
      <div className="card-head">
        <input
          type="checkbox"
          className="card-select"
          checked={selected}
          onChange={() => toggleSelected(vm.id)}
          aria-label={`Select ${vm.name}`}
          data-testid="card-select"
        />
        <button
          type="button"
          className="card-name"
          onClick={() => navigate({ kind: 'vm', id: vm.id, tab: 'console' })}
          title={vm.name}
          data-testid="card-name"
        >
          {vm.name}
        </button>
        <span className={`badge badge-${vm.state}`} role="status" data-testid="card-state">
          {stateLabel(vm.state)}
        </span>
      </div>
      <p className="card-facts">
        <span data-testid="card-os" title={vm.os?.shortId ? `osinfo-db: ${vm.os.shortId}` : undefined}>
          <span aria-hidden="true" className="card-os-glyph">
            {osGlyph(vm.osType)}
          </span>{' '}
          {osLabel(vm.osType, vm.os)}
        </span>
        <span>{vm.cpus === null ? '? CPUs' : `${vm.cpus} CPU${vm.cpus === 1 ? '' : 's'}`}</span>
        <span>{memoryLabel(vm.memoryMiB)}</span>
        {accel && <span title="Accelerator this host uses">{accel}</span>}
        {vm.linkedTo && <span title="Its disks are overlays on a template's">linked clone</span>}
        {vm.baseline && <span title="It can be reset to its baseline in an instant">baseline</span>}
      </p>
      {vm.tags && vm.tags.length > 0 && (
        <ul className="card-tags" aria-label="Tags" data-testid="card-tags">
          {vm.tags.map((t) => (
            <li key={t}>
              <button
                type="button"
                className="tag"
                title={`Show only VMs tagged ${t}`}
                onClick={() => useListUi.setState({ tag: t })}
              >
                {t}
              </button>
            </li>
          ))}
        </ul>
      )}
      {(vm.state === 'running' || vm.state === 'paused') && <Sparkline id={vm.id} />}
      <Activity vm={vm} />
      {/* The readiness line has the agent's own ssh command once the guest is ready. */}
      <AccessLinks vm={vm} showSsh={!(vm.readiness?.stage === 'ready' && vm.readiness.ssh)} />
      <CardActions vm={vm} />
    </article>
  );
});
