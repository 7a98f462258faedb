// What a console shows when the VM has no console to show, and the connection badge they share.
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import type { LinkStatus } from '../../consoles/observable';
import { attempt } from '../../store/notices';

export function StoppedPlaceholder({ vm, what }: { vm: VmSummary; what: string }) {
  const canStart = !vm.template && (vm.state === 'stopped' || vm.state === 'crashed');
  return (
    <div className="console-placeholder" data-testid="console-placeholder">
      <p>
        {vm.template
          ? 'A template is never started: make a linked clone of it (Rollback tab) and start that.'
          : vm.state === 'starting'
            ? 'The VM is starting…'
            : canStart
              ? `The VM is ${vm.state}. Start it to see ${what}.`
              : `The VM is ${vm.state}.`}
      </p>
      {canStart && (
        <button
          type="button"
          className="primary"
          data-testid="console-start"
          onClick={() => void attempt('Could not start the VM', () => api('vm.start', { vm: vm.id }))}
        >
          Start
        </button>
      )}
    </div>
  );
}

/** The word alone is in the test id'd element, so tests and screen readers get a stable value. */
export function LinkBadge({ status, testId }: { status: LinkStatus; testId: string }) {
  return (
    <span className="console-status" role="status">
      <span className={`console-dot console-dot-${status.state}`} aria-hidden="true" />
      <span data-testid={testId}>{status.state}</span>
      {status.state === 'disconnected' && status.reason && (
        <span className="muted console-reason">— {status.reason}</span>
      )}
    </span>
  );
}
