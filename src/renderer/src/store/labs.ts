// The labs as the engine reports them, refreshed when a lab event arrives, and the latest event
// per lab VM (what `up`, `down` and `destroy` are doing right now).
import { create } from 'zustand';
import type { LabEvent, LabStatus } from '../../../shared/lab/status';
import { api } from '../api/client';
import { transport } from '../api/transport';

interface LabsState {
  labs: LabStatus[];
  loaded: boolean;
  /** `<lab>/<vm or "">` -> the latest event. */
  activity: Record<string, LabEvent>;
  /** Labs with a verb under way (the buttons wait). */
  busy: Record<string, string>;
}

export const useLabs = create<LabsState>(() => ({ labs: [], loaded: false, activity: {}, busy: {} }));

export async function refreshLabs(): Promise<void> {
  const labs = await api('lab.list', {});
  useLabs.setState({ labs, loaded: true });
}

let timer: ReturnType<typeof setTimeout> | null = null;
let started = false;
export function startLabSync(): void {
  if (started) return;
  started = true;
  transport.onEvent((event, data) => {
    if (event !== 'lab') return;
    const e = data as LabEvent;
    useLabs.setState((s) => ({ activity: { ...s.activity, [`${e.lab}/${e.vm ?? ''}`]: e } }));
    // Events come in bursts; one listing after the burst.
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void refreshLabs().catch(() => undefined), 300);
  });
  transport.onEvent((event) => {
    // A lab VM changing state (started by hand, crashed) shows in its lab too.
    if (event === 'state') {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void refreshLabs().catch(() => undefined), 300);
    }
  });
}

/** Runs a lab verb with the lab marked busy; the caller shows errors. */
export async function labVerb<T>(lab: string, verb: string, fn: () => Promise<T>): Promise<T> {
  useLabs.setState((s) => ({ busy: { ...s.busy, [lab]: verb } }));
  try {
    return await fn();
  } finally {
    useLabs.setState((s) => {
      const busy = { ...s.busy };
      delete busy[lab];
      return { busy };
    });
    await refreshLabs().catch(() => undefined);
  }
}
