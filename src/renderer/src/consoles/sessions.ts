// Console sessions live here, outside React, in one map keyed by VM id: a tab switch unmounts the
// component but not the session, so VNC stays connected and the serial scrollback stays. Sockets
// close when the VM stops and reopen when it runs again; the whole entry goes when the detail view
// is left (closeSessions).
import type { VmState } from '../../../shared/state';
import { transport } from '../api/transport';
import { useVms } from '../store/vms';
import { MonitorSession } from './monitor-session';
import { SerialSession } from './serial-session';
import { VncSession } from './vnc-session';

interface Entry {
  vnc?: VncSession;
  serial?: SerialSession;
  monitor?: MonitorSession;
}

const entries = new Map<string, Entry>();

/** A VM whose console sockets exist: QEMU is up and not on its way out. */
export function isLive(state: VmState | undefined): boolean {
  return state === 'running' || state === 'paused';
}

function entry(id: string): Entry {
  let e = entries.get(id);
  if (!e) {
    e = {};
    entries.set(id, e);
  }
  return e;
}

export function vncSession(id: string): VncSession {
  const e = entry(id);
  e.vnc ??= new VncSession(transport.consoleUrl('vnc', id));
  return e.vnc;
}

export function serialSession(id: string): SerialSession {
  const e = entry(id);
  e.serial ??= new SerialSession(transport.consoleUrl('serial', id));
  return e.serial;
}

export function monitorSession(id: string): MonitorSession {
  const e = entry(id);
  e.monitor ??= new MonitorSession(id);
  return e.monitor;
}

/** Ends every session of a VM; the next visit starts fresh. */
export function closeSessions(id: string): void {
  const e = entries.get(id);
  if (!e) return;
  entries.delete(id);
  e.vnc?.dispose();
  e.serial?.dispose();
}

function stateOf(vms: { id: string; state: VmState }[], id: string): VmState | undefined {
  return vms.find((v) => v.id === id)?.state;
}

// Follows the mirror: only transitions matter, so a socket the user closed or lost is not
// reopened behind their back on every unrelated store change.
useVms.subscribe((now, before) => {
  if (now.vms === before.vms) return;
  for (const [id, e] of entries) {
    const state = stateOf(now.vms, id);
    const prev = stateOf(before.vms, id);
    if (state === prev || state === undefined) continue;
    if (isLive(state) && !isLive(prev)) {
      e.vnc?.connect();
      e.serial?.connect();
    } else if (state === 'stopped' || state === 'crashed') {
      const why = state === 'crashed' ? 'The VM crashed.' : 'The VM stopped.';
      e.vnc?.disconnect(why);
      e.serial?.disconnect(why);
    }
  }
});

declare global {
  interface Window {
    /** Read-only hooks for end-to-end tests. */
    hangarDebug?: { serialText(id: string): string | null };
  }
}

window.hangarDebug = { serialText: (id) => entries.get(id)?.serial?.text() ?? null };
