// The window: a header with the host's accelerator and the connection, then the current view.
import { useCallback, useEffect, useRef, useState } from 'react';
import { startSync, useVms } from './store/vms';
import { navigate, useRoute } from './store/ui';
import { Notices } from './components/Notices';
import { VmList } from './components/list/VmList';
import { Wizard } from './components/wizard/Wizard';
import { VmDetail } from './components/detail/VmDetail';
import { LabsView } from './components/labs/LabsView';
import { LibraryView } from './components/library/LibraryView';
import { HostsView } from './components/hosts/HostsView';
import { ShortcutSheet } from './shortcuts/ShortcutSheet';
import { DropTarget } from './drop/DropTarget';
import { useShortcuts } from './shortcuts/useShortcuts';

// After a route change focus would fall to the page body (the control that was clicked is gone):
// put it on the new page's heading, unless the page already placed it (the wizard does). A VM
// just created may reach the store a little after the route: wait a few frames for its heading.
function focusPageHeading(framesLeft = 120): void {
  requestAnimationFrame(() => {
    const main = document.querySelector('main');
    const active = document.activeElement;
    if (!main || (active && active !== document.body && main.contains(active))) return;
    const heading = main.querySelector<HTMLElement>('h1');
    if (heading) heading.focus();
    else if (framesLeft > 0) focusPageHeading(framesLeft - 1);
  });
}

export function App() {
  const route = useRoute((s) => s.route);
  const page = route.kind === 'vm' ? `vm/${route.id}` : route.kind;
  const firstPage = useRef(true);
  useEffect(() => {
    if (firstPage.current) firstPage.current = false;
    else focusPageHeading();
  }, [page]);
  const host = useVms((s) => s.host);
  const connected = useVms((s) => s.connected);
  useEffect(() => startSync(), []);
  const [sheet, setSheet] = useState(false);
  const openSheet = useCallback(() => setSheet(true), []);
  useShortcuts(openSheet);
  return (
    <div className="app">
      <header className="topbar">
        <button type="button" className="brand" onClick={() => navigate({ kind: 'list' })}>
          Hangar
        </button>
        <nav className="topnav">
          <button type="button" onClick={() => navigate({ kind: 'list' })} data-testid="nav-vms">
            VMs
          </button>
          <button type="button" onClick={() => navigate({ kind: 'labs' })} data-testid="nav-labs">
            Labs
          </button>
          <button type="button" onClick={() => navigate({ kind: 'library' })} data-testid="nav-library">
            Library
          </button>
          <button type="button" onClick={() => navigate({ kind: 'hosts' })} data-testid="nav-hosts">
            Hosts
          </button>
        </nav>
        {host && (
          <span className={`accel accel-${host.accel}`} title={host.accelReason} data-testid="host-accel">
            {host.accel.toUpperCase()}
          </span>
        )}
        <button
          type="button"
          className="topbar-keys"
          onClick={openSheet}
          title="Keyboard shortcuts (?)"
          data-testid="shortcuts-open"
        >
          Shortcuts
        </button>
        {!connected && (
          <span className="offline" data-testid="offline">
            Reconnecting to the engine…
          </span>
        )}
      </header>
      <main className="content">
        {route.kind === 'list' && <VmList />}
        {route.kind === 'new' && <Wizard />}
        {route.kind === 'labs' && <LabsView />}
        {route.kind === 'library' && <LibraryView />}
        {route.kind === 'hosts' && <HostsView />}
        {route.kind === 'vm' && <VmDetail id={route.id} tab={route.tab} />}
      </main>
      <DropTarget />
      <Notices />
      {sheet && <ShortcutSheet onClose={() => setSheet(false)} />}
    </div>
  );
}
