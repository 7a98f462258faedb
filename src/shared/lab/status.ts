// What the engine reports about labs: the plan, progress events of `up`/`down`/`reset`, and a
// lab's status. Shared by the CLI, the API and the renderer.
import type { VmState } from '../state';

export type PlanAction = 'create' | 'change' | 'keep' | 'recreate';

export interface LabPlanEntry {
  vm: string;
  vmName: string;
  action: PlanAction;
  why: string;
}

export type LabPhase =
  | 'creating'
  | 'created'
  | 'starting'
  | 'resuming'
  | 'waiting'
  | 'ready'
  | 'provisioning'
  | 'provisioned'
  | 'baseline'
  | 'saving'
  | 'stopped'
  | 'deleted'
  | 'failed';

export interface LabEvent {
  lab: string;
  /** The lab VM's name, or null for the lab as a whole (switch, baseline). */
  vm: string | null;
  phase: LabPhase;
  detail: string;
}

export interface LabVmStatus {
  vm: string;
  id: string | null;
  vmName: string;
  /** A VM of the user's the lab uses as it is (`vm:`): destroy gives it back, never deletes it. */
  borrowed: boolean;
  state: VmState | 'missing';
  addresses: { network: string; ip: string; dns: string }[];
  forwards: { host: number; guest: number; proto: 'tcp' | 'udp' }[];
  provisioned: boolean;
}

export interface LabStatus {
  name: string;
  /** The lab file as last applied: the app's editor opens it, and Up applies it again. */
  text: string;
  sourceFile: string | null;
  appliedAt: string;
  switch: { pid: number; segments: { name: string; ports: number }[] } | null;
  networks: {
    name: string;
    subnet: string;
    switchIp: string;
    /** False on the multicast fallback (no switch could run): any local process can join. */
    isolated: boolean;
    multicast?: { group: string; port: number };
  }[];
  vms: LabVmStatus[];
  baseline: string | null;
  saved: string | null;
}
