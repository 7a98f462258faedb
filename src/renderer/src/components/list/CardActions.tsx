// Quick actions on a card. They only ask the engine; the new state arrives as an event into the
// store, so a VM changed from the CLI or by its guest looks exactly the same here.
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';
import { navigate } from '../../store/ui';
import { Icon, type IconName } from './icons';
import { openDialog } from './view';

interface ActionProps {
  icon: IconName;
  label: string;
  testId: string;
  onClick: () => void;
  disabled?: boolean;
  text?: string;
  danger?: boolean;
}

function Action({ icon, label, testId, onClick, disabled, text, danger }: ActionProps) {
  return (
    <button
      type="button"
      className={`card-action${danger ? ' danger' : ''}${text ? ' card-action-text' : ''}`}
      onClick={onClick}
      disabled={disabled}
      aria-label={label}
      title={label}
      data-testid={testId}
    >
      <Icon name={icon} />
      {text && <span>{text}</span>}
    </button>
  );
}

type Call = (what: string, fn: () => Promise<unknown>) => void;

const SNAPSHOT_OFF = 'snapshots are off during a disposable run';

function PrimaryAction({ vm, call, template }: { vm: VmSummary; call: Call; template: boolean }) {
  const { id, name, state } = vm;
  const blocked = vm.busy !== null || vm.error !== null;
  if (state === 'running')
    return (
      <Action
        icon="pause"
        label={`Pause ${name}`}
        testId="card-pause"
        disabled={blocked}
        onClick={() => call('pause', () => api('vm.pause', { vm: id }))}
      />
    );
  if (state === 'paused')
    return (
      <Action
        icon="start"
        text="Resume"
        label={`Resume ${name}`}
        testId="card-resume"
        disabled={blocked}
        onClick={() => call('resume', () => api('vm.resume', { vm: id }))}
      />
    );
  // A template is never started: what one does with it is make a linked clone (its Rollback tab).
  if (template)
    return (
      <Action
        icon="clone"
        text="New linked clone"
        label={`New linked clone of ${name}`}
        testId="card-linked-clone"
        disabled={blocked}
        onClick={() => navigate({ kind: 'vm', id, tab: 'rollback' })}
      />
    );
  // Starting and stopping show Start disabled: it is what becomes possible next.
  return (
    <Action
      icon="start"
      text="Start"
      label={`Start ${name}`}
      testId="card-start"
      disabled={blocked || (state !== 'stopped' && state !== 'crashed')}
      onClick={() => call('start', () => api('vm.start', { vm: id }))}
    />
  );
}

export function CardActions({ vm }: { vm: VmSummary }) {
  const { id, name, state } = vm;
  // While the engine works on this VM, other operations would only fail with BUSY; force stop
  // stays, because it is how a user gets out of a stop or start that hangs.
  const busy = vm.busy !== null;
  const broken = vm.error !== null;
  const call: Call = (what, fn) => void attempt(`Could not ${what} ${name}`, fn);

  const live = state === 'running' || state === 'paused';
  const canForce = state !== 'stopped' && state !== 'crashed';
  const canSnapshot = state === 'stopped' || live;
  const template = vm.template === true;
  const disposable = vm.last.disposable === true;

  return (
    <div className="card-actions" role="group" aria-label={`Actions for ${name}`}>
      {/* One slot for Start, Pause and Resume: the button element stays the same as the state
          moves on, so keyboard focus is not dropped to the page when it changes. */}
      <PrimaryAction vm={vm} call={call} template={template} />
      {(state === 'stopped' || state === 'crashed') && !template && (
        <Action
          icon="disposable"
          text="Disposable"
          label={`Start ${name} disposable: every write is thrown away at shutdown`}
          testId="card-start-disposable"
          disabled={busy || broken}
          onClick={() => call('start', () => api('vm.start', { vm: id, disposable: true }))}
        />
      )}
      {state === 'running' && (
        <Action
          icon="shutdown"
          label={`Shut down ${name} (ask the guest to power off)`}
          testId="card-shutdown"
          disabled={busy}
          onClick={() => call('shut down', () => api('vm.stop', { vm: id }))}
        />
      )}
      {canForce && (
        <Action
          icon="forceStop"
          label={`Force stop ${name}`}
          testId="card-force-stop"
          danger
          onClick={() => openDialog({ kind: 'force-stop', id, name })}
        />
      )}
      <span className="card-actions-gap" />
      {canSnapshot && (
        <Action
          icon="snapshot"
          label={
            disposable
              ? `No snapshot of ${name}: ${SNAPSHOT_OFF}`
              : template
                ? `No snapshot of ${name}: a template's disks do not change`
                : `Take a snapshot of ${name}`
          }
          testId="card-snapshot"
          disabled={busy || broken || disposable || template}
          onClick={() => openDialog({ kind: 'snapshot', id, name })}
        />
      )}
      <Action
        icon="console"
        label={`Open the console of ${name}`}
        testId="card-console"
        disabled={broken}
        onClick={() => navigate({ kind: 'vm', id, tab: 'console' })}
      />
    </div>
  );
}
