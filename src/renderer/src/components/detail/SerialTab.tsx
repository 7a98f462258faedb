// The serial console: xterm.js fed by the VM's one serial socket. The Terminal (and its 10,000
// lines of scrollback) belongs to consoles/sessions and survives tab switches and guest reboots.
import { useEffect, useRef } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { isLive, serialSession } from '../../consoles/sessions';
import { attempt, notify } from '../../store/notices';
import { useObservable } from './hooks';
import { LinkBadge, StoppedPlaceholder } from './StoppedPlaceholder';

export function SerialTab({ vm }: { vm: VmSummary }) {
  const live = isLive(vm.state);
  const session = serialSession(vm.id);
  const status = useObservable(session.status);
  const hasSelection = useObservable(session.hasSelection);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const container = ref.current;
    if (!container) return;
    const s = serialSession(vm.id);
    s.attach(container);
    return () => s.detach();
  }, [vm.id]);
  useEffect(() => {
    if (live) serialSession(vm.id).connect();
  }, [vm.id, live]);

  const copy = () =>
    void attempt('Could not copy', async () => {
      if (!navigator.clipboard) {
        notify('info', 'No clipboard access', 'This window cannot reach the clipboard; use Ctrl+Shift+C.');
      } else if (await session.copySelection()) {
        notify('info', 'Copied', 'The selected text is on the clipboard.');
      }
    });

  return (
    <div className="term-tab">
      <div className="console-toolbar" role="toolbar" aria-label="Serial console">
        <LinkBadge status={status} testId="serial-status" />
        <span className="console-spacer" />
        <span className="muted term-hint">Ctrl+Shift+C copies · Shift+Tab leaves the terminal</span>
        <button
          type="button"
          data-testid="serial-copy"
          disabled={!hasSelection}
          title={hasSelection ? 'Copy the selected text' : 'Select text in the terminal first'}
          onClick={copy}
        >
          Copy
        </button>
        {live && status.state === 'disconnected' && (
          <button type="button" data-testid="serial-reconnect" onClick={() => session.connect()}>
            Reconnect
          </button>
        )}
      </div>
      {!live && vm.state !== 'stopping' && <StoppedPlaceholder vm={vm} what="its serial console" />}
      <div className="term-container" ref={ref} data-testid="serial-terminal" />
    </div>
  );
}
