// The Hosts page (#/hosts): libvirt hosts this Hangar publishes VMs to and drives (issue 16).
// Each host shows its domains as cards with their state and a host badge; a VM is published from
// here. Hosts with URI parameters (key files) are the CLI's to add: hangar host add NAME URI.
import { useCallback, useEffect, useState } from 'react';
import type { LibvirtHost } from '../../../../shared/hosts';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';
import { AddHostForm } from './AddHostForm';
import { HostPanel } from './HostPanel';

export function HostsView() {
  const [hosts, setHosts] = useState<LibvirtHost[] | null>(null);
  const load = useCallback(async () => {
    const l = await attempt('Could not list the hosts', () => api('remote.hosts', {}));
    if (l) setHosts(l);
  }, []);
  useEffect(() => void load(), [load]);

  return (
    <div className="hosts-view" data-testid="hosts-view">
      <h1 className="page-title" tabIndex={-1}>
        Hosts
      </h1>
      <p className="muted">
        When a VM should run on a server, publish it to a libvirt host: its disks are flattened and uploaded
        to a storage pool there, and the domain is defined and started. The domains of each host can be
        started and stopped from here. Hangar talks to a host through libvirt&apos;s own client, virsh.
      </p>
      <AddHostForm onAdded={load} />
      {hosts === null ? (
        <p className="muted">Loading…</p>
      ) : hosts.length === 0 ? (
        <p className="muted" data-testid="hosts-empty">
          No hosts yet. Add one above, or with hangar host add NAME URI.
        </p>
      ) : (
        hosts.map((h) => <HostPanel key={h.name} host={h} onRemoved={load} />)
      )}
    </div>
  );
}
