// "New linked clone": a name, then the clone is made and opened. The name is checked with the
// engine's own rule before it is sent.
import { useRef, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { navigate } from '../../store/ui';
import { useVms } from '../../store/vms';
import { NewVmNameFields, useNewVmNameError } from './NewVmName';

export function LinkedCloneForm({ template, count }: { template: VmSummary; count: number }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [saving, setSaving] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const error = useNewVmNameError(name);

  const close = () => {
    setOpen(false);
    requestAnimationFrame(() => opener.current?.focus());
  };
  const create = async () => {
    if (error) return;
    setSaving(true);
    const clone = await attempt('Could not make a linked clone', () =>
      api('vm.linkedClone', { vm: template.id, name }),
    );
    setSaving(false);
    if (!clone) return;
    // The clone's config event may still be on its way: have it listed before opening it.
    if (!useVms.getState().vms.some((v) => v.id === clone.id))
      await useVms
        .getState()
        .refresh()
        .catch(() => undefined);
    notify('info', 'Linked clone made', `${clone.name} is linked to ${template.name}.`);
    navigate({ kind: 'vm', id: clone.id, tab: 'rollback' });
  };

  if (!open)
    return (
      <div className="rb-actions">
        <button
          type="button"
          className="primary"
          ref={opener}
          data-testid="linked-clone-new"
          disabled={template.busy !== null}
          onClick={() => {
            setName(`${template.name} clone ${count + 1}`.slice(0, 100));
            setOpen(true);
          }}
        >
          New linked clone…
        </button>
      </div>
    );

  return (
    <form
      className="snap-form rb-form"
      aria-label="New linked clone"
      onSubmit={(e) => {
        e.preventDefault();
        void create();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          close();
        }
      }}
    >
      <NewVmNameFields
        id="linked-clone-name"
        label="Name of the clone"
        name={name}
        setName={setName}
        error={error}
        saving={saving}
        onCancel={close}
        submit={{ label: 'Make linked clone', busy: 'Making…', testId: 'linked-clone-create' }}
        inputTestId="linked-clone-name"
      />
    </form>
  );
}
