// What the engine reports about VMs, shared by every front end.
import type { BackingLink, VmConfig } from './vm';
import type { StateChange, VmState } from './state';

export interface VmSummary {
  id: string;
  name: string;
  osType: VmConfig['osType'] | null;
  /** The OS by name (osinfo-db), when known. */
  os?: VmConfig['os'];
  state: VmState;
  /** The latest transition, with its reason (and the log tail after a crash). */
  last: StateChange;
  cpus: number | null;
  memoryMiB: number | null;
  /** Labels for filtering and bulk actions. */
  tags?: string[];
  /** Set when vm.json could not be read; the VM is listed but cannot be used until fixed. */
  error: string | null;
  /** The operation under way, if any (start, stop, snapshot, ...). */
  busy: string | null;
  /** A template (never started; the base of linked clones). */
  template?: boolean;
  /** The template this VM is a linked clone of. */
  linkedTo?: string | null;
  /** It can be reset to its baseline. */
  baseline?: boolean;
  /** How far a running guest has come (agent, cloud-init, address); null when not watched. */
  readiness?: Readiness | null;
}

/**
 * A running guest's readiness as the engine last saw it (engine/ready/watch.ts). Stages, in order:
 * booting (no agent yet), cloud-init (the agent answers, cloud-init still runs), agent (waiting for
 * an address), ready (an address, and cloud-init done when the VM has a seed). failed: cloud-init
 * reported errors (detail holds them and the end of its log). no-agent: a VM without a seed whose
 * guest has no agent (most ISOs): nothing to report. no-boot: the firmware found nothing to boot or
 * Secure Boot refused the media (detail says which, and what to do).
 */
export interface Readiness {
  stage: 'booting' | 'cloud-init' | 'agent' | 'ready' | 'failed' | 'no-agent' | 'no-boot';
  detail: string;
  ip: string | null;
  ssh: { host: string; port: number; user: string | null } | null;
  /** For a VM with a cloud-init seed: its status as the guest reported it. */
  cloudInit: 'running' | 'done' | 'error' | null;
}

export interface Progress {
  id: string;
  operation: string;
  percent: number;
  step: string;
}

export interface DeleteResult {
  removed: string[];
  kept: string[];
}

/** An image's header as the wizard shows it, with the backing chain a user must confirm. */
export interface DiskInfoResult {
  format: string;
  virtualSize: number;
  actualSize: number | null;
  backingFile: string | null;
  /** The files the image is built on, nearest first (each passed the path policy). */
  backingChain: BackingLink[];
  /** Why the chain cannot be used at all (a link without a format, a file the policy refuses). */
  backingChainError: string | null;
  snapshots: number;
}

/** A running guest's address, from its agent, and the way to its sshd from this host. */
export interface VmAddress {
  ipv4: string | null;
  ipv6: string | null;
  interface: string | null;
  ssh: { host: string; port: number; user: string | null } | null;
}

export interface CopyResult {
  bytes: number;
  sha256: string;
  /** False when the guest could not hash the file (no sha256sum): only the size was compared. */
  verified: boolean;
}

/** One second of a running VM as the engine sampled it (engine/stats). Rates are per second. */
export interface StatsSample {
  /** Milliseconds since the epoch. */
  at: number;
  /** The QEMU process's threads, as % of one host core (200 = two cores busy). */
  cpuPercent: number | null;
  /** QEMU's resident memory on the host. */
  rssBytes: number | null;
  /** The guest's own view (MemTotal, MemAvailable) through its agent; null without one. */
  guestMemory: { totalBytes: number; availableBytes: number } | null;
  disks: { id: string; readBytes: number; writeBytes: number; readOps: number; writeOps: number }[];
  /** Through the guest agent's interface counters; null: not available (no agent). */
  net: { rxBytes: number; txBytes: number } | null;
}
