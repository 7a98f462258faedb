// Adding a libvirt host: a short name and a URI. The engine tries the connection before it keeps
// the host, so a typo is said now. The app adds this computer's libvirt only; servers are added
// with the CLI (a page able to add any host could have publish send a VM's disks there).
import { useState } from 'react';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';

export function AddHostForm({ onAdded }: { onAdded: () => Promise<void> }) {
  const [name, setName] = useState('');
  const [uri, setUri] = useState('qemu:///system');
  const [saving, setSaving] = useState(false);

  const add = async () => {
    setSaving(true);
    const h = await attempt('Could not add the host', () => api('remote.addHost', { name, uri }));
    setSaving(false);
    if (!h) return;
    notify('info', 'Host added', `${h.name}: ${h.uri}${h.version ? `, libvirt ${h.version}` : ''}.`);
    setName('');
    await onAdded();
  };

  return (
    <form
      className="host-add"
      aria-labelledby="host-add-title"
      onSubmit={(e) => {
        e.preventDefault();
        void add();
      }}
    >
      <h2 id="host-add-title">Add a host</h2>
      <label>
        Name
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="server"
          required
          maxLength={64}
          data-testid="host-add-name"
        />
      </label>
      <label>
        libvirt URI
        <input
          value={uri}
          onChange={(e) => setUri(e.target.value)}
          required
          maxLength={1000}
          aria-describedby="host-add-hint"
          data-testid="host-add-uri"
        />
      </label>
      <button type="submit" className="primary" disabled={saving || !name || !uri} data-testid="host-add">
        {saving ? 'Connecting…' : 'Add host'}
      </button>
      <p id="host-add-hint" className="muted">
        qemu:///system is this computer&apos;s libvirt. A server (qemu+ssh://user@server/system) is added from
        a terminal with hangar host add NAME URI, so that no page can send your VMs elsewhere.
      </p>
    </form>
  );
}
