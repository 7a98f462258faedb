// What operations (vms/, rollback/, snapshots, agent/, ready/, stats/, ...) may use of the engine.
// They depend on this interface rather than on the Engine class, so the class can import them
// without an import cycle, and a test can hand an operation a smaller stand-in.
import type { EventEmitter } from 'node:events';
import type { HostInfo } from '../../shared/host';
import type { VmConfig } from '../../shared/vm';
import type { StateChange } from '../../shared/state';
import type { Progress, Readiness, StatsSample } from '../../shared/api-types';
import type { LabEvent } from '../../shared/lab/status';
import type { ConfigStore } from './config/store';
import type { VmPaths } from './config/paths';
import type { PathPolicy } from './policy/paths';
import type { QemuImg } from './storage/qemu-img';
import type { StopOptions, VmRuntime } from './supervisor/runtime';
import type { Claim } from './policy/locks';
import type { GuestAgent } from './agent';

export type EngineEvents = {
  state: [StateChange];
  progress: [Progress];
  /** An operation started on a VM (operation) or ended (null). */
  busy: [{ id: string; operation: string | null }];
  /** A VM's config changed (null: the VM was deleted). */
  config: [{ id: string; config: VmConfig | null }];
  /** How far a running guest has come (null: no longer watched); see ready/watch.ts. */
  readiness: [{ id: string; readiness: Readiness | null }];
  /** Once a second while sampling: the newest sample of each running VM (stats/sampler.ts). */
  stats: [{ samples: { id: string; sample: StatsSample }[] }];
  /** Progress of a lab verb (labs/). */
  lab: [LabEvent];
};

export interface EngineContext extends Pick<EventEmitter<EngineEvents>, 'on' | 'off' | 'once' | 'emit'> {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  readonly host: HostInfo;
  /** The VM configs, and the in-memory index of them (config/store.ts). */
  readonly store: ConfigStore;
  readonly img: QemuImg;
  readonly policy: PathPolicy;
  paths(id: string): VmPaths;
  /** Finds a VM by id, or by its exact name when that is unique. */
  resolve(ref: string): VmConfig;
  runtime(id: string): VmRuntime;
  agent(id: string): GuestAgent;
  resetAgent(id: string): void;
  qmp(ref: string): ReturnType<VmRuntime['qmp']>;
  isStopped(id: string): boolean;
  requireStopped(config: VmConfig, what: string): void;
  start(ref: string, options?: { paused?: boolean }): Promise<StateChange>;
  stop(ref: string, options?: StopOptions): Promise<StateChange>;
  pause(ref: string): Promise<StateChange>;
  resume(ref: string): Promise<StateChange>;
  /** Runs `fn` holding the VM's write lock (and `extra`), with its config as it is now. */
  withVm<T>(
    ref: string,
    operation: string,
    fn: (config: VmConfig) => Promise<T>,
    extra?: Claim[],
  ): Promise<T>;
  withLocks<T>(claims: Claim[], operation: string, fn: () => Promise<T>): Promise<T>;
  busyWith(id: string): string | null;
  progress(id: string, operation: string, percent: number, step: string): void;
  endProgress(id: string, operation: string, failed: boolean): void;
  failpoint(name: string, step?: number): Promise<void>;
  forget(id: string): void;
  onClose(fn: () => void): void;
  runningPids(): [string, number][];
}
