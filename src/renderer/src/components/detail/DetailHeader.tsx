// The VM's name, its state from the mirror, and the lifecycle buttons that fit that state.
// Buttons only ask the engine; the badge changes when the engine's state event arrives.
import { useEffect, useRef } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { navigate } from '../../store/ui';
import { useVmConfig } from '../vm-config';
import { useVms } from '../../store/vms';
import { useShallow } from 'zustand/react/shallow';
import { useConfirm } from './Confirm';
import { AccessLinks } from '../list/AccessLinks';

const DISPOSABLE_TIP =
  'Start disposable: every write is thrown away at shutdown, so the VM starts next time exactly as it is now.';

export function DetailHeader({ vm }: { vm: VmSummary }) {
  const [dialog, ask] = useConfirm();
  const { id, state } = vm;
  const run = (title: string, fn: () => Promise<unknown>) => void attempt(title, fn);
  const actions = useRef<HTMLDivElement>(null);
  const powerFocus = useRef(false);
  // After a power action the pressed button is often disabled: keep the keyboard in the toolbar.
  useEffect(() => {
    const bar = actions.current;
    const active = document.activeElement;
    if (!powerFocus.current || !bar || (active && active !== document.body)) return;
    bar.querySelector<HTMLButtonElement>('button:not(:disabled)')?.focus();
  }, [vm.state, vm.busy]);
  const stopped = state === 'stopped' || state === 'crashed';
  const up = state === 'running' || state === 'paused';
  const config = useVmConfig(id);
  const template = config?.template === true;
  // A template's linked clones: deleting it would break them, and the engine refuses.
  const clones = useVms(useShallow((s) => s.vms.filter((v) => v.linkedTo === id).map((v) => v.name)));
  const startBlock = template
    ? 'A template is never started: make a linked clone of it (Rollback tab) and start that.'
    : null;

  const forceStop = async () => {
    const yes = await ask({
      title: `Force stop ${vm.name}?`,
      message: 'This is pulling the plug: the guest gets no chance to save its work or flush its disks.',
      confirmLabel: 'Force stop',
    });
    if (yes) run('Could not force stop the VM', () => api('vm.stop', { vm: id, force: true }));
  };
  const reset = async () => {
    const yes = await ask({
      title: `Reset ${vm.name}?`,
      message: 'The guest restarts at once, like pressing a reset button; unsaved work in it is lost.',
      confirmLabel: 'Reset',
    });
    if (yes) run('Could not reset the VM', () => api('vm.reset', { vm: id }));
  };

  const remove = async () => {
    const yes = await ask({
      title: `Delete ${vm.name}?`,
      message:
        'Its own disks, snapshots and logs are removed for good. Files it only uses (ISOs, disks elsewhere) stay.',
      confirmLabel: 'Delete VM',
    });
    if (!yes) return;
    const result = await attempt('Could not delete the VM', () => api('vm.delete', { vm: id }));
    if (!result) return;
    navigate({ kind: 'list' });
    const kept = result.kept.length ? ` Kept: ${result.kept.join(', ')}.` : '';
    notify('info', 'VM deleted', `${vm.name} is gone.${kept}`);
  };

  return (
    <header className="detail-header">
      <button type="button" className="detail-back" onClick={() => navigate({ kind: 'list' })}>
        ← All VMs
      </button>
      <div className="detail-title">
        <h1 data-testid="detail-name" tabIndex={-1}>
          {vm.name}
        </h1>
        <span className={`badge badge-${state}`} role="status" data-testid="detail-state">
          {state}
        </span>
        {vm.last.disposable && (
          <span className="badge badge-disposable" data-testid="disposable-badge" title={DISPOSABLE_TIP}>
            Disposable
          </span>
        )}
        {template && (
          <span
            className="badge badge-template"
            data-testid="template-badge"
            title="A template: the base of linked clones, never started itself"
          >
            Template
          </span>
        )}
        {vm.busy && (
          <span className="muted detail-busy" data-testid="detail-busy">
            {vm.busy}…
          </span>
        )}
        {/* How a template last stopped is history, not news: it is never started again. */}
        {vm.last.reason && state !== 'running' && !template && (
          <span className="detail-reason muted" data-testid="detail-reason">
            {vm.last.reason}
          </span>
        )}
      </div>
      <AccessLinks vm={vm} />
      <div
        className="detail-actions"
        role="toolbar"
        aria-label="Power"
        ref={actions}
        onFocus={() => (powerFocus.current = true)}
        onBlur={(e) => {
          // Null: the focused button was disabled under the user (Start once the VM runs), which
          // drops focus to the page; anything else is the user moving on.
          if (!e.currentTarget.contains(e.relatedTarget)) powerFocus.current = e.relatedTarget === null;
        }}
      >
        <button
          type="button"
          className="primary"
          data-testid="detail-start"
          disabled={!stopped || template}
          title={startBlock ?? undefined}
          onClick={() => run('Could not start the VM', () => api('vm.start', { vm: id }))}
        >
          Start
        </button>
        <button
          type="button"
          data-testid="detail-start-disposable"
          disabled={!stopped || template}
          title={startBlock ?? DISPOSABLE_TIP}
          onClick={() => run('Could not start the VM', () => api('vm.start', { vm: id, disposable: true }))}
        >
          Start disposable
        </button>
        {state === 'paused' ? (
          <button
            type="button"
            data-testid="detail-resume"
            onClick={() => run('Could not resume the VM', () => api('vm.resume', { vm: id }))}
          >
            Resume
          </button>
        ) : (
          <button
            type="button"
            data-testid="detail-pause"
            disabled={state !== 'running'}
            onClick={() => run('Could not pause the VM', () => api('vm.pause', { vm: id }))}
          >
            Pause
          </button>
        )}
        <button
          type="button"
          data-testid="detail-shutdown"
          disabled={state !== 'running'}
          title="Asks the guest to power off (ACPI power button)"
          onClick={() => run('Could not shut down the VM', () => api('vm.stop', { vm: id }))}
        >
          Shut down
        </button>
        <button
          type="button"
          className="danger"
          data-testid="detail-force-stop"
          disabled={stopped}
          onClick={() => void forceStop()}
        >
          Force stop
        </button>
        <button
          type="button"
          className="danger"
          data-testid="detail-reset"
          disabled={!up}
          onClick={() => void reset()}
        >
          Reset
        </button>
        <button
          type="button"
          className="danger"
          data-testid="detail-delete"
          disabled={!stopped || clones.length > 0}
          title={
            clones.length > 0
              ? `Linked clones are built on this template (${clones.join(', ')}): delete them or make them independent first.`
              : stopped
                ? 'Delete this VM'
                : 'Stop the VM to delete it'
          }
          onClick={() => void remove()}
        >
          Delete
        </button>
      </div>
      {state === 'crashed' && vm.last.logTail && (
        <details className="detail-crash">
          <summary>What QEMU said last</summary>
          <pre>{vm.last.logTail}</pre>
        </details>
      )}
      {dialog}
    </header>
  );
}
