// Naming a new snapshot. Whether RAM is included follows from the VM's state, so the form says so.
import { useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';

export function TakeSnapshotForm({
  vm,
  onDone,
  onCancel,
}: {
  vm: VmSummary;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [saving, setSaving] = useState(false);
  const withRam = vm.state === 'running' || vm.state === 'paused';

  const save = async () => {
    setSaving(true);
    const made = await attempt('Could not take the snapshot', () =>
      api('snapshot.create', { vm: vm.id, name: name.trim(), description: description.trim() || undefined }),
    );
    setSaving(false);
    if (made) onDone();
  };

  return (
    <form
      className="snap-form"
      aria-label="Take snapshot"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label htmlFor="snapshot-name">Name</label>
      <input
        id="snapshot-name"
        data-testid="snapshot-name"
        value={name}
        maxLength={200}
        required
        autoFocus
        placeholder="before upgrade"
        onChange={(e) => setName(e.target.value)}
      />
      <label htmlFor="snapshot-description">Description</label>
      <textarea
        id="snapshot-description"
        data-testid="snapshot-description"
        rows={2}
        maxLength={4000}
        value={description}
        onChange={(e) => setDescription(e.target.value)}
      />
      <p className="muted snap-note">
        {withRam
          ? 'The VM is running: its RAM is saved too, so a revert resumes exactly where it was.'
          : 'The VM is stopped: the snapshot holds the disks only.'}
      </p>
      <div className="snap-form-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className="primary"
          data-testid="snapshot-save"
          disabled={!name.trim() || saving}
        >
          {saving ? 'Taking…' : 'Take snapshot'}
        </button>
      </div>
    </form>
  );
}
