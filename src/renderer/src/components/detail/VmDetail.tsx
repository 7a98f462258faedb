// One VM: header with power controls, then the tab the route names. Console sessions belong to
// src/renderer/src/consoles; this view only ends them when the user leaves the VM.
import { useEffect } from 'react';
import { closeSessions } from '../../consoles/sessions';
import { useVms } from '../../store/vms';
import { navigate, type Tab } from '../../store/ui';
import { DetailHeader } from './DetailHeader';
import { GuestStatus } from './GuestStatus';
import { Tabs } from './Tabs';
import { useVmSummary } from './hooks';
import { ConsoleTab } from './ConsoleTab';
import { SerialTab } from './SerialTab';
import { MonitorTab } from './MonitorTab';
import { SnapshotsTab } from './SnapshotsTab';
import { SettingsTab } from './SettingsTab';
import { RollbackTab } from './RollbackTab';
import { BackupsTab } from './BackupsTab';
import { LogTab } from './LogTab';
import { PerformanceTab } from './PerformanceTab';

export function VmDetail({ id, tab }: { id: string; tab: Tab }) {
  const vm = useVmSummary(id);
  const loaded = useVms((s) => s.loaded);
  // Leaving this VM (for the list or another VM) closes its consoles; tab switches do not.
  useEffect(() => () => closeSessions(id), [id]);

  if (!vm) {
    return (
      <section className="detail detail-missing" data-testid="vm-detail-missing">
        {loaded ? (
          <>
            <p>There is no VM with the id {id}; it may have been deleted.</p>
            <button type="button" onClick={() => navigate({ kind: 'list' })}>
              Back to all VMs
            </button>
          </>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </section>
    );
  }

  return (
    <section className="detail" data-testid="vm-detail" data-state={vm.state}>
      <DetailHeader vm={vm} />
      <GuestStatus vm={vm} />
      <Tabs id={id} tab={tab} />
      <div className="detail-panel" role="tabpanel" id="detail-panel" aria-labelledby={`tab-${tab}`}>
        {tab === 'console' && <ConsoleTab vm={vm} />}
        {tab === 'serial' && <SerialTab vm={vm} />}
        {tab === 'monitor' && <MonitorTab vm={vm} />}
        {tab === 'snapshots' && <SnapshotsTab vm={vm} />}
        {tab === 'rollback' && <RollbackTab vm={vm} />}
        {tab === 'backups' && <BackupsTab vm={vm} />}
        {tab === 'performance' && <PerformanceTab vm={vm} />}
        {tab === 'settings' && <SettingsTab vm={vm} />}
        {tab === 'log' && <LogTab vm={vm} />}
      </div>
    </section>
  );
}
