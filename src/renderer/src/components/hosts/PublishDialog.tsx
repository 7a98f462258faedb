// Publish a VM to a host: which VM (stopped, or running: then its disks are copied at one point
// in time), the storage pool, the domain type, then the upload with the engine's progress.
import { useState } from 'react';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { useVms } from '../../store/vms';
import { Dialog } from '../detail/Dialog';
import { ProgressStatus } from '../detail/ProgressStatus';

export function PublishDialog({
  host,
  onClose,
  onPublished,
}: {
  host: string;
  onClose: () => void;
  onPublished: () => Promise<void>;
}) {
  const vms = useVms((s) => s.vms);
  const publishable = vms.filter(
    (v) => v.state === 'stopped' || v.state === 'running' || v.state === 'paused',
  );
  const [vm, setVm] = useState(publishable[0]?.id ?? '');
  const [pool, setPool] = useState('default');
  const [domainType, setDomainType] = useState<'kvm' | 'qemu'>('kvm');
  const [start, setStart] = useState(true);
  const [saving, setSaving] = useState(false);

  const publish = async () => {
    setSaving(true);
    const r = await attempt('Could not publish', () =>
      api('vm.publish', { vm, host, pool, domainType, start }),
    );
    setSaving(false);
    if (!r) return;
    notify(
      'info',
      `Published to ${r.host}`,
      `${r.domain}${r.started ? ' is running' : ' is defined'}; ${r.volumes.length} volume(s) uploaded.${r.pointInTime ? ` Copied while running (${r.pointInTime}).` : ''}${r.warning ? ` ${r.warning}` : ''}${r.dropped.length ? ` Not carried over: ${r.dropped.join(' ')}` : ''}`,
    );
    await onPublished();
    onClose();
  };

  return (
    <Dialog title={`Publish a VM to ${host}`} onClose={onClose} testId="publish-dialog">
      <form
        className="host-form"
        onSubmit={(e) => {
          e.preventDefault();
          void publish();
        }}
      >
        {publishable.length === 0 ? (
          <p data-testid="publish-none">
            No VM is stopped or running: wait until the one you want has started or stopped.
          </p>
        ) : (
          <label>
            VM
            <select value={vm} onChange={(e) => setVm(e.target.value)} data-testid="publish-vm">
              {publishable.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.name}
                  {v.state === 'stopped' ? '' : ` (${v.state}: copied at one point in time)`}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Storage pool on {host}
          <input value={pool} onChange={(e) => setPool(e.target.value)} required data-testid="publish-pool" />
        </label>
        <label>
          Domain type
          <select
            value={domainType}
            onChange={(e) => setDomainType(e.target.value as 'kvm' | 'qemu')}
            data-testid="publish-type"
          >
            <option value="kvm">kvm (the host has KVM)</option>
            <option value="qemu">qemu (emulation, no KVM)</option>
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={start} onChange={(e) => setStart(e.target.checked)} />
          Start it there once defined
        </label>
        {vm && <ProgressStatus id={vm} testId="publish-progress" />}
        <div className="host-form-actions">
          <button type="button" onClick={onClose} disabled={saving}>
            Cancel
          </button>
          <button
            type="submit"
            className="primary"
            disabled={saving || !vm || !pool}
            data-testid="publish-confirm"
          >
            {saving ? 'Publishing…' : 'Publish'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
