// Naming a new snapshot. A running VM's RAM is saved too unless the user asks for disks only;
// the form says what each choice means.
import { useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';

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
  const running = vm.state === 'running' || vm.state === 'paused';
  const [ram, setRam] = useState(true);
  const withRam = running && ram;

  const save = async () => {
    setSaving(true);
    const made = await attempt('Could not take the snapshot', () =>
      api('snapshot.create', {
        vm: vm.id,
        name: name.trim(),
        description: description.trim() || undefined,
        ram: running ? ram : undefined,
      }),
    );
    setSaving(false);
    if (made?.warning) notify('error', 'Snapshot taken, with a warning', made.warning);
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
      {running && (
        <label className="snap-ram">
          <input
            type="checkbox"
            data-testid="snapshot-ram"
            checked={ram}
            onChange={(e) => setRam(e.target.checked)}
          />
          Include RAM
        </label>
      )}
      <p className="muted snap-note">
        {withRam
          ? 'The VM is running: its RAM is saved too, so a revert resumes exactly where it was.'
          : running
            ? 'Disks only, while the VM runs: its filesystems are frozen if a guest agent answers, otherwise the snapshot is crash-consistent (as after a power cut). Reverting restarts the VM.'
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
