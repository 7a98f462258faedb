// A live picture of a running VM's screen. It polls vm.screenshot about every 5 s, but only while
// the card is on screen, the window is visible and the VM runs; a failed capture keeps the last
// picture (a guest mid-reboot has no display for a moment, which is no reason to blank the card).
// A stopped VM shows the frame the engine kept from those captures, dimmed under its state.
import { useEffect, useRef, useState, type RefObject } from 'react';
import type { VmState } from '../../../../shared/state';
import { api } from '../../api/client';

const INTERVAL_MS = 5000;

// Last picture per VM, outside React, so a card scrolled back into view shows something at once.
// Bounded: a thousand VMs' screens would otherwise pile up in memory.
const lastPicture = new Map<string, string>();
const KEEP = 64;
function remember(id: string, png: string): void {
  lastPicture.delete(id);
  lastPicture.set(id, png);
  if (lastPicture.size > KEEP) lastPicture.delete(lastPicture.keys().next().value!);
}

/** True while the element intersects the viewport (scroll containers' clipping included). */
function useOnScreen(ref: RefObject<HTMLElement | null>): boolean {
  const [onScreen, setOnScreen] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const io = new IntersectionObserver((entries) => setOnScreen(entries.some((e) => e.isIntersecting)));
    io.observe(el);
    return () => io.disconnect();
  }, [ref]);
  return onScreen;
}

const EMPTY_TEXT: Record<VmState, string> = {
  stopped: 'Powered off',
  crashed: 'Crashed',
  starting: 'Starting…',
  running: 'Waiting for the display…',
  paused: 'Paused',
  stopping: 'Shutting down…',
};

export function Thumbnail({ id, name, state }: { id: string; name: string; state: VmState }) {
  const box = useRef<HTMLDivElement>(null);
  const onScreen = useOnScreen(box);
  const [png, setPng] = useState<string | null>(() => lastPicture.get(id) ?? null);
  const polling = onScreen && state === 'running';

  useEffect(() => {
    if (!polling) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (document.visibilityState === 'visible') {
        try {
          const shot = await api('vm.screenshot', { vm: id });
          if (!stopped) {
            remember(id, shot.png);
            setPng(shot.png);
          }
        } catch {
          // Keep the last picture; the card's state badge tells the real story.
        }
      }
      // Scheduled after the answer, so a slow capture (TCG) never stacks requests up.
      if (!stopped) timer = setTimeout(() => void tick(), INTERVAL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id, polling]);

  const last = useLastFrame(id, state === 'stopped' || state === 'crashed');
  const live = state === 'running' || state === 'paused' || state === 'stopping';
  return (
    <div ref={box} className={`card-screen card-screen-${state}`}>
      {live && png ? (
        <img src={`data:image/png;base64,${png}`} alt={`Screen of ${name}`} data-testid="card-thumbnail" />
      ) : !live && last ? (
        // Dimmed, with the state over it: an old screen must not pass for a running one.
        <>
          <img
            className="card-screen-last"
            src={`data:image/png;base64,${last.png}`}
            alt={`Last screen of ${name}${last.at ? `, captured ${new Date(last.at).toLocaleString()}` : ''}`}
            data-testid="card-last-frame"
          />
          <span className="card-screen-empty card-screen-over">{EMPTY_TEXT[state]}</span>
        </>
      ) : (
        <span className="card-screen-empty">{EMPTY_TEXT[state]}</span>
      )}
    </div>
  );
}

/** A stopped VM's last captured screen, asked for once each time it stops (or the card appears). */
function useLastFrame(id: string, stopped: boolean): { png: string; at: string | null } | null {
  const [frame, setFrame] = useState<{ png: string; at: string | null } | null>(null);
  useEffect(() => {
    if (!stopped) return;
    let current = true;
    api('vm.lastFrame', { vm: id })
      .then((f) => current && setFrame(f.png ? { png: f.png, at: f.at } : null))
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [id, stopped]);
  return stopped ? frame : null;
}
