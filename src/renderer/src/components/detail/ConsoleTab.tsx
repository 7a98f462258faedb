// The graphical console: a toolbar (status, keys, paste, screenshot, fullscreen) over the noVNC
// screen. The RFB session itself lives in consoles/sessions; this only lends it a container.
import { useEffect, useRef, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { isLive, vncSession } from '../../consoles/sessions';
import { Observable, type LinkStatus } from '../../consoles/observable';
import { attempt } from '../../store/notices';
import { downloadBase64, screenshotName } from './download';
import { useObservable } from './hooks';
import { KeysMenu } from './KeysMenu';
import { PasteDialog } from './PasteDialog';
import { LinkBadge, StoppedPlaceholder } from './StoppedPlaceholder';

// Stands in for a session's status while there is no session, so the hook order never changes.
const NO_SESSION = new Observable<LinkStatus>({ state: 'disconnected', reason: '' });

export function ConsoleTab({ vm }: { vm: VmSummary }) {
  const live = isLive(vm.state);
  // While stopping the guest still draws its shutdown, so the screen stays until QEMU is gone.
  const showScreen = live || vm.state === 'stopping';
  const [pasting, setPasting] = useState(false);
  const screenRef = useRef<HTMLDivElement>(null);
  const [fullscreen, setFullscreen] = useState(false);
  const session = showScreen ? vncSession(vm.id) : null;
  const sessionStatus = useObservable(session?.status ?? NO_SESSION);
  const status = showScreen
    ? sessionStatus
    : { state: 'disconnected' as const, reason: `The VM is ${vm.state}.` };

  // When the paste dialog goes away (typed or cancelled), the keyboard goes back to the screen,
  // so the next key reaches the guest. After the dialog's own close, which returns focus to the
  // button that opened it.
  const wasPasting = useRef(false);
  useEffect(() => {
    if (wasPasting.current && !pasting && live) vncSession(vm.id).focus();
    wasPasting.current = pasting;
  }, [pasting, live, vm.id]);

  useEffect(() => {
    const onChange = () => setFullscreen(document.fullscreenElement === screenRef.current);
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, []);

  const screenshot = () =>
    void attempt('Could not take a screenshot', async () => {
      const { png } = await api('vm.screenshot', { vm: vm.id });
      downloadBase64(png, screenshotName(vm.name), 'image/png');
    });
  const toggleFullscreen = () =>
    void attempt('Could not switch to full screen', async () => {
      if (document.fullscreenElement) await document.exitFullscreen();
      else await screenRef.current?.requestFullscreen();
    });

  return (
    <div className="console-tab">
      <div className="console-toolbar" role="toolbar" aria-label="Console">
        <LinkBadge status={status} testId="vnc-status" />
        <span className="muted console-hint">Click or Tab into the screen to type; Shift+Tab leaves</span>
        <span className="console-spacer" />
        <KeysMenu id={vm.id} disabled={!live} />
        <button type="button" data-testid="vnc-paste" disabled={!live} onClick={() => setPasting(true)}>
          Paste text…
        </button>
        <button type="button" data-testid="vnc-screenshot" disabled={!live} onClick={screenshot}>
          Screenshot
        </button>
        <button type="button" data-testid="vnc-fullscreen" disabled={!showScreen} onClick={toggleFullscreen}>
          {fullscreen ? 'Exit full screen' : 'Full screen'}
        </button>
        {live && status.state === 'disconnected' && (
          <button type="button" data-testid="vnc-reconnect" onClick={() => session?.connect()}>
            Reconnect
          </button>
        )}
      </div>
      {showScreen && session ? (
        <div className="console-screen" ref={screenRef} data-testid="vnc-screen">
          <VncAttach id={vm.id} live={live} />
          {status.state !== 'connected' && (
            <div className="console-overlay" aria-hidden="true">
              {status.state === 'connecting' ? 'Connecting…' : status.reason || 'Disconnected.'}
            </div>
          )}
        </div>
      ) : (
        <StoppedPlaceholder vm={vm} what="the screen" />
      )}
      {pasting && <PasteDialog id={vm.id} onClose={() => setPasting(false)} />}
    </div>
  );
}

/** Lends the session's element to this container for as long as the component is mounted. */
function VncAttach({ id, live }: { id: string; live: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const container = ref.current;
    if (!container) return;
    const s = vncSession(id);
    container.appendChild(s.element);
    return () => s.element.remove();
  }, [id]);
  useEffect(() => {
    // Opening the tab is the demand that (re)opens a connection; the session ignores duplicates.
    if (live) vncSession(id).connect();
  }, [id, live]);
  return <div className="console-attach" ref={ref} />;
}
