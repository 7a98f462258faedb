// A mirror of the engine's state, kept current by its events. No business logic lives here:
// actions call the API, and the engine's events (not the action's result) update the mirror,
// so changes made elsewhere (the CLI, a guest powering off) show up the same way.
import { create } from 'zustand';
import type { VmSummary, Progress, Readiness, StatsSample } from '../../../shared/api-types';
import type { HostInfo } from '../../../shared/host';
import type { StateChange } from '../../../shared/state';
import type { VmConfig } from '../../../shared/vm';
import { api } from '../api/client';
import { transport } from '../api/transport';
import { applyStats } from './stats';

export interface VmsState {
  vms: VmSummary[];
  host: HostInfo | null;
  loaded: boolean;
  connected: boolean;
  /** Latest progress per VM id (and 'new' while a VM is being created). */
  progress: Record<string, Progress>;
  /** Bumped whenever a VM's config changes, so open detail views reload it. */
  configVersion: Record<string, number>;
  refresh(): Promise<void>;
}

export const useVms = create<VmsState>((set, get) => ({
  vms: [],
  host: null,
  loaded: false,
  connected: false,
  progress: {},
  configVersion: {},
  async refresh() {
    const [vms, host] = await Promise.all([
      api('vm.list', {}),
      get().host ? Promise.resolve(get().host!) : api('host.info', {}),
    ]);
    set({ vms, host, loaded: true });
  },
}));

function applyState(s: StateChange): void {
  useVms.setState((st) => ({
    vms: st.vms.map((v) => (v.id === s.id ? { ...v, state: s.state, last: s } : v)),
  }));
}

function applyConfig(e: { id: string; config: VmConfig | null }): void {
  useVms.setState((st) => {
    const configVersion = { ...st.configVersion, [e.id]: (st.configVersion[e.id] ?? 0) + 1 };
    if (!e.config) return { configVersion, vms: st.vms.filter((v) => v.id !== e.id) };
    const c = e.config;
    const fields = {
      name: c.name,
      osType: c.osType,
      cpus: c.cpus,
      memoryMiB: c.memoryMiB,
      error: null,
      template: c.template,
      linkedTo: c.linkedTo,
      baseline: c.baseline !== null,
    };
    return { configVersion, vms: st.vms.map((v) => (v.id === e.id ? { ...v, ...fields } : v)) };
  });
  // A VM this window has not seen yet (made by the CLI, or a clone): take the engine's list.
  if (e.config && !useVms.getState().vms.some((v) => v.id === e.id)) {
    void useVms
      .getState()
      .refresh()
      .catch(() => undefined);
  }
}

function applyBusy(e: { id: string; operation: string | null }): void {
  useVms.setState((st) => ({ vms: st.vms.map((v) => (v.id === e.id ? { ...v, busy: e.operation } : v)) }));
}

function applyReadiness(e: { id: string; readiness: Readiness | null }): void {
  useVms.setState((st) => ({
    vms: st.vms.map((v) => (v.id === e.id ? { ...v, readiness: e.readiness } : v)),
  }));
}

function applyProgress(p: Progress): void {
  useVms.setState((st) => {
    const progress = { ...st.progress };
    if (p.percent >= 100) delete progress[p.id];
    else progress[p.id] = p;
    return { progress };
  });
}

let started = false;
/** Subscribes the store to the engine once, for the life of the page. */
export function startSync(): void {
  if (started) return;
  started = true;
  transport.onEvent((event, data) => {
    if (event === 'state') applyState(data as StateChange);
    else if (event === 'config') applyConfig(data as { id: string; config: VmConfig | null });
    else if (event === 'progress') applyProgress(data as Progress);
    else if (event === 'busy') applyBusy(data as { id: string; operation: string | null });
    else if (event === 'stats') applyStats(data as { samples: { id: string; sample: StatsSample }[] });
    else if (event === 'readiness') applyReadiness(data as { id: string; readiness: Readiness | null });
  });
  transport.onConnection((connected) => {
    useVms.setState({ connected });
    if (connected)
      void useVms
        .getState()
        .refresh()
        .catch(() => undefined);
  });
}
