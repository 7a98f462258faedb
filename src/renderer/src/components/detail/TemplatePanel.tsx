// Templates and linked clones. A template's disks become read-only bases; a linked clone is made
// over them in milliseconds and holds only its own changes, until "Make independent" copies the
// template's data into it.
import type { VmSummary } from '../../../../shared/api-types';
import type { VmConfig } from '../../../../shared/vm';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { navigate } from '../../store/ui';
import { useVms } from '../../store/vms';
import { useLinkedClones } from '../vm-config';
import { LinkedCloneForm } from './LinkedCloneForm';
import { useConfirm } from './Confirm';

const isStopped = (vm: VmSummary) => vm.state === 'stopped' || vm.state === 'crashed';

export function TemplatePanel({ vm, config }: { vm: VmSummary; config: VmConfig }) {
  if (config.linkedTo) return <ClonePanel vm={vm} templateId={config.linkedTo} />;
  return (
    <section className="rb-section" aria-labelledby="rb-template">
      <h2 id="rb-template">Template and linked clones</h2>
      {config.template ? <TemplateBody vm={vm} /> : <MakeTemplate vm={vm} config={config} />}
    </section>
  );
}

function MakeTemplate({ vm, config }: { vm: VmSummary; config: VmConfig }) {
  const [dialog, ask] = useConfirm();
  const block = !isStopped(vm)
    ? 'Stop the VM to make it a template.'
    : config.baseline
      ? 'Clear the baseline first: a template cannot have one (its linked clones can).'
      : vm.busy
        ? `Wait: ${vm.busy} is under way.`
        : null;
  const make = () =>
    void attempt('Could not make a template', () => api('template.set', { vm: vm.id, template: true })).then(
      (c) => {
        if (c) notify('info', 'Template made', `${c.name} is a template: make linked clones of it here.`);
      },
    );
  // A template cannot have a baseline: offer to drop it and convert in one step, said before the click.
  const clearThenMake = async () => {
    const yes = await ask({
      title: `Clear the baseline and make ${vm.name} a template?`,
      message: (
        <p>
          A template cannot have a baseline. The VM keeps its current state, but can no longer be reset to the
          baseline set {config.baseline ? new Date(config.baseline.createdAt).toLocaleString() : ''}. Its
          linked clones can each have their own.
        </p>
      ),
      confirmLabel: 'Clear baseline and make template',
    });
    if (!yes) return;
    const cleared = await attempt('Could not clear the baseline', () => api('baseline.clear', { vm: vm.id }));
    if (cleared) make();
  };
  const canConvert = isStopped(vm) && !vm.busy && !!config.baseline && !config.linkedTo;
  return (
    <>
      <p>
        A template is a VM kept as a starting point. Its disks become read-only bases, and each linked clone
        of it is made in milliseconds, holding only what it changes. A template is never started itself; you
        can turn it back into a VM once no clone uses it.
      </p>
      <div className="rb-actions">
        <button type="button" data-testid="template-set" disabled={block !== null} onClick={make}>
          Make template
        </button>
        {block && <span className="muted rb-reason">{block}</span>}
        {canConvert && (
          <button type="button" data-testid="template-set-convert" onClick={() => void clearThenMake()}>
            Clear baseline and make template…
          </button>
        )}
      </div>
      {dialog}
    </>
  );
}

function TemplateBody({ vm }: { vm: VmSummary }) {
  const clones = useLinkedClones(vm.id, true);
  const unsetBlock =
    clones === null
      ? 'Looking for linked clones…'
      : clones.length > 0
        ? 'Linked clones still use it: delete them or make them independent first.'
        : vm.busy
          ? `Wait: ${vm.busy} is under way.`
          : null;
  const unset = () =>
    void attempt('Could not turn the template back into a VM', () =>
      api('template.set', { vm: vm.id, template: false }),
    ).then((c) => {
      if (c) notify('info', 'A VM again', `${c.name} is an ordinary VM again and can be started.`);
    });

  return (
    <>
      <p className="rb-status" data-testid="template-status">
        This VM is a template: its disks are read-only bases for linked clones, and it is never started. Each
        clone is made in milliseconds and holds only its own changes.
      </p>
      <LinkedCloneForm template={vm} count={clones?.length ?? 0} />
      <h3 className="rb-subtitle">Linked clones</h3>
      {clones === null ? (
        <p className="muted">Looking for linked clones…</p>
      ) : clones.length === 0 ? (
        <p className="muted" data-testid="linked-clones-empty">
          None yet.
        </p>
      ) : (
        <ul className="rb-clones" aria-label="Linked clones" data-testid="linked-clones">
          {clones.map((c) => (
            <li key={c.id} data-testid="linked-clone">
              <button
                type="button"
                className="rb-link"
                onClick={() => navigate({ kind: 'vm', id: c.id, tab: 'rollback' })}
              >
                {c.name}
              </button>
              <span className={`badge badge-${c.state}`}>{c.state}</span>
            </li>
          ))}
        </ul>
      )}
      <div className="rb-actions">
        <button type="button" data-testid="template-unset" disabled={unsetBlock !== null} onClick={unset}>
          Turn back into a VM
        </button>
        {unsetBlock && clones !== null && <span className="muted rb-reason">{unsetBlock}</span>}
      </div>
    </>
  );
}

function ClonePanel({ vm, templateId }: { vm: VmSummary; templateId: string }) {
  const template = useVms((s) => s.vms.find((v) => v.id === templateId));
  const block = !isStopped(vm)
    ? 'Stop the VM to make it independent.'
    : vm.busy
      ? `Wait: ${vm.busy} is under way.`
      : null;
  const independent = () =>
    void attempt('Could not make the clone independent', () => api('vm.makeIndependent', { vm: vm.id })).then(
      (c) => {
        if (c)
          notify(
            'info',
            'Independent',
            `${c.name} has its own copy of every disk and no longer needs the template.`,
          );
      },
    );

  return (
    <section className="rb-section" aria-labelledby="rb-template">
      <h2 id="rb-template">Linked clone</h2>
      <p className="rb-status" data-testid="linked-to">
        Linked to{' '}
        {template ? (
          <button
            type="button"
            className="rb-link"
            onClick={() => navigate({ kind: 'vm', id: templateId, tab: 'rollback' })}
          >
            {template.name}
          </button>
        ) : (
          <span>a template this window cannot see ({templateId})</span>
        )}
      </p>
      <p>
        Its disks are overlays on the template’s: it holds only what it changed, and it needs the template to
        run. <strong>Make independent</strong> copies the template’s data into it, so it no longer needs the
        template; that takes as long as copying its disks.
      </p>
      <div className="rb-actions">
        <button type="button" data-testid="make-independent" disabled={block !== null} onClick={independent}>
          {vm.busy === 'make independent' ? 'Making independent…' : 'Make independent'}
        </button>
        {block && <span className="muted rb-reason">{block}</span>}
      </div>
    </section>
  );
}
