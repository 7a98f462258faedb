// The one API of the engine: method name -> request schema. Every transport (Electron IPC, the
// host server's WebSocket, the CLI's thin client) parses params with these before the engine
// sees them. Results are typed by ApiResults.
import { z } from 'zod';
import { uploadNameProblem } from './drop';
import type { HostInfo } from './host';
import type { SnapshotMeta, VmConfig } from './vm';
import type { StateChange } from './state';
import type {
  CopyResult,
  DeleteResult,
  DiskInfoResult,
  Readiness,
  StatsSample,
  VmAddress,
  VmSummary,
} from './api-types';
import {
  CreateVmRequest,
  EditVmRequest,
  ExistingDisk,
  HostFile,
  NewDisk,
  PickPurpose,
  type PickedFile,
} from './requests';
import { AbsolutePath, CONTROL_CHARS, NetName } from './vm';
import type { LabEvent, LabPlanEntry, LabStatus } from './lab/status';
import { Cidr } from './lab/schema';
import {
  ImageRef,
  type CatalogItem,
  type CatalogOs,
  type ImageEntry,
  type ImageMeta,
  type IsoIdentity,
  type OvaPlan,
  type VerifyResult,
} from './images';
import type { JournalEntry } from './journal';
import { ExportLibvirtRequest, ImportLibvirtRequest, type LibvirtExport } from './libvirt';
import {
  DomainAction,
  DomainRef,
  HostAddRequest,
  HostRef,
  PublishRequest,
  RemoteSnapshotRequest,
  type LibvirtHost,
  type PublishResult,
  type RemoteAddress,
  type RemoteDomain,
} from './hosts';
import {
  BackupId,
  BackupKey,
  type BackupDrillResult,
  type BackupList,
  type BackupPruneResult,
  type BackupResult,
  type BackupVerifyResult,
} from './backup';

/** A VM named by id or by its (unique) name. */
const VmRef = z.string().min(1).max(200);
const Vm = z.object({ vm: VmRef });
const SnapshotName = z
  .string()
  .min(1, 'Give the snapshot a name.')
  .max(200)
  .refine((s) => !CONTROL_CHARS.test(s), 'Snapshot names cannot contain line breaks or control characters.');

/** A backup repository folder; null is the default, $HANGAR_HOME/backups. */
const Repository = AbsolutePath.nullable().default(null);

/** A lab file's text, and where it was read from (relative image paths resolve against it). */
const LabSourceParams = z.object({
  text: z.string().max(1024 * 1024),
  sourceFile: AbsolutePath.nullable().default(null),
});

export const ApiParams = {
  'host.info': z.object({}),
  'vm.list': z.object({}),
  'vm.get': Vm,
  'vm.create': CreateVmRequest,
  /** The empty state's demo: builds the tiny guest once (user's cache), makes a VM of it and starts it. */
  'vm.demo': z.object({}),
  'vm.edit': Vm.extend({ patch: EditVmRequest }),
  'vm.clone': Vm.extend({ name: CreateVmRequest.shape.name }),
  'vm.delete': Vm,
  'vm.start': Vm.extend({ paused: z.boolean().optional(), disposable: z.boolean().optional() }),
  /** The last ten minutes of a running VM's performance samples, oldest first (sampling starts). */
  'vm.stats': Vm,
  /** The newest sample of every running VM (sampling starts on the first call). */
  'host.stats': z.object({}),
  /** A new cloud-init instance-id in the seed of a stopped VM: cloud-init runs again at next boot. */
  'vm.reseed': Vm,
  'vm.linkedClone': Vm.extend({ name: CreateVmRequest.shape.name }),
  'vm.makeIndependent': Vm,
  'template.set': Vm.extend({ template: z.boolean() }),
  'baseline.set': Vm,
  'baseline.reset': Vm,
  'baseline.clear': Vm,
  'snapshot.edit': Vm.extend({
    snapshot: z.string().min(1).max(200),
    name: SnapshotName.optional(),
    description: z.string().max(4000).optional(),
  }),
  'vm.stop': Vm.extend({
    force: z.boolean().optional(),
    timeoutSec: z.number().int().min(1).max(3600).optional(),
    /** Wait this long for the guest, then pull the plug (for scripts; never the default). */
    forceAfterSec: z.number().int().min(1).max(3600).optional(),
  }),
  'vm.pause': Vm,
  'vm.resume': Vm,
  'vm.reset': Vm,
  'vm.sendKeys': Vm.extend({ keys: z.string().min(1).max(100) }),
  'vm.typeText': Vm.extend({ text: z.string().min(1).max(10_000) }),
  'vm.screenshot': Vm,
  /** The screen as last captured while the VM ran (kept in its folder), for a stopped VM's card. */
  'vm.lastFrame': Vm,
  'vm.monitor': Vm.extend({ command: z.string().min(1).max(4096) }),
  'vm.log': Vm.extend({ lines: z.number().int().min(1).max(5000).optional() }),
  /** The VM's history (state changes and operations), newest first. */
  'vm.history': Vm.extend({ limit: z.number().int().min(1).max(5000).default(500) }),
  'snapshot.list': Vm,
  'snapshot.create': Vm.extend({
    name: SnapshotName,
    description: z.string().max(4000).optional(),
    /** false: disks only, also while running (default: RAM too when running). */
    ram: z.boolean().optional(),
  }),
  'snapshot.revert': Vm.extend({ snapshot: z.string().min(1).max(200) }),
  'snapshot.delete': Vm.extend({ snapshot: z.string().min(1).max(200) }),
  /** The screen as it was when the snapshot was taken (running VMs only), or null. */
  'snapshot.thumbnail': Vm.extend({ snapshot: z.string().min(1).max(200) }),
  'media.insert': Vm.extend({ path: HostFile, drive: z.string().max(16).optional() }),
  'media.eject': Vm.extend({ drive: z.string().max(16).optional() }),
  'disk.info': z.object({ path: HostFile }),
  'host.isos': z.object({}),
  /** A file dropped on the browser UI, found by its name, size and time where such files usually are. */
  'host.findDropped': z.object({
    name: z
      .string()
      .min(1)
      .max(255)
      .refine((n) => uploadNameProblem(n) === null, {
        message: 'a plain file name of an ISO, disk image or OVA',
      }),
    size: z.number().int().min(0),
    modifiedMs: z.number().min(0),
  }),
  /** The user's public keys in ~/.ssh and the user name a cloud image gets by default. */
  'host.sshKeys': z.object({}),
  /** Free and total space where VMs' disks are made ($HANGAR_HOME), in bytes. */
  'host.space': z.object({}),
  'disk.add': Vm.extend({ disk: z.discriminatedUnion('kind', [NewDisk, ExistingDisk]) }),
  'disk.resize': Vm.extend({
    disk: z.string().max(16),
    size: z.string().max(32),
    shrink: z.boolean().optional(),
  }),
  'disk.convert': Vm.extend({ disk: z.string().max(16), format: z.enum(['qcow2', 'raw']) }),
  'disk.remove': Vm.extend({ disk: z.string().max(16), deleteFile: z.boolean().default(false) }),
  /** The guest's address (through its agent) and how to reach its sshd from this host. */
  'vm.address': Vm,
  /** Runs a program in the guest through its agent (no shell unless the program is one). */
  'vm.exec': Vm.extend({
    command: z.string().min(1).max(4096),
    args: z.array(z.string().max(65_536)).max(1024).default([]),
    env: z
      .array(
        z
          .string()
          .max(65_536)
          .regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'Environment entries look like NAME=value.'),
      )
      .max(256)
      .default([]),
    /** Standard input, base64. */
    stdin: z
      .string()
      .max(22 * 1024 * 1024)
      .optional(),
    timeoutSec: z.number().int().min(1).max(86_400).optional(),
  }),
  /** Host to guest: a file the caller may name (the CLI: any the path policy allows). */
  'vm.copyIn': Vm.extend({ hostPath: HostFile, guestPath: z.string().min(1).max(4096) }),
  /** Guest to host: written beside the target first, then renamed; never into Hangar's data. */
  'vm.copyOut': Vm.extend({ guestPath: z.string().min(1).max(4096), hostPath: AbsolutePath }),
  /** Waits for readiness checks (ready, agent, cloud-init, ip, ssh, port:N), re-armed on reboot. */
  'vm.wait': Vm.extend({
    for: z.array(z.string().min(1).max(200)).min(1).max(16),
    timeoutSec: z.number().int().min(1).max(86_400).default(300),
  }),
  /**
   * The browser UI's file picker (served by the host server on an origin of its own, so the page
   * cannot script it): a one-time URL to open in a popup, and the id to wait on. The desktop app
   * uses its native file dialog instead (window.hangar.pickFile).
   */
  'picker.open': z.object({ purpose: PickPurpose }),
  /** Answers when the user has chosen a file in that picker (null: cancelled, closed or expired). */
  'picker.wait': z.object({ id: z.string().min(1).max(64) }),
  /** What `lab.up` would create, change or keep. */
  'lab.plan': LabSourceParams,
  'lab.up': LabSourceParams.extend({
    only: z.array(NetName).max(64).optional(),
    parallel: z.number().int().min(1).max(32).optional(),
  }),
  'lab.list': z.object({}),
  'lab.status': z.object({ lab: NetName }),
  /** Saves every VM's RAM (the lab paused together) unless shutdown: true. */
  'lab.down': z.object({ lab: NetName, shutdown: z.boolean().optional() }),
  'lab.reset': z.object({ lab: NetName, vm: NetName.optional() }),
  'lab.destroy': z.object({ lab: NetName }),
  /** Until every VM of the lab is running and passes its readiness checks. */
  'lab.wait': z.object({ lab: NetName, timeoutSec: z.number().int().min(1).max(86_400).default(900) }),
  /** A lab file from chosen VMs, all on one network ("Export as lab"); nothing is created. */
  /** The image library (engine/images). */
  'image.list': z.object({}),
  /** A disk image or ISO into the library: stored as is (qcow2, raw, ISO) or converted (vmdk, vdi, vhdx, vpc). */
  'image.add': z.object({
    path: HostFile,
    name: z.string().min(1).max(200).optional(),
    /** 'raw' stores a hybrid ISO as a disk (as a USB stick image is used); otherwise read from the file. */
    format: z.literal('raw').optional(),
  }),
  /** An OVA: its disk into the library and a VM on it with the OVF's settings. */
  'image.importOva': z.object({ path: HostFile, name: CreateVmRequest.shape.name.optional() }),
  /** What importing an OVA would make and what it cannot honour, before anything is written. */
  'image.planOva': z.object({ path: HostFile }),
  /** Downloads a catalog entry, verified against its published checksum list. */
  'image.pull': z.object({ id: z.string().min(1).max(64) }),
  'image.remove': z.object({ image: ImageRef }),
  'image.verify': z.object({ image: ImageRef.optional() }),
  /** Hangar's download catalog, each entry with what osinfo-db knows of its OS. */
  'image.catalog': z.object({}),
  /** osinfo-db: OSes by short-id (as virt-install --os-variant) or by words of the name. */
  'os.search': z.object({ query: z.string().max(100) }),
  /** What an ISO the user picked is: ISO 9660/UDF or not, its volume id and the OS osinfo says it is. */
  'iso.identify': z.object({ path: HostFile }),
  'lab.export': z.object({
    lab: NetName,
    vms: z.array(z.string().min(1).max(200)).min(1).max(64),
    subnet: Cidr.optional(),
  }),
  /** A new lab baseline now, with the whole lab paused together. */
  'lab.baseline': z.object({ lab: NetName }),
  /** Starts (file) or stops (file: null) a pcap capture of one segment. */
  'lab.capture': z.object({ lab: NetName, segment: NetName, file: AbsolutePath.nullable() }),
  /** libvirt (engine/libvirt): the VM as domain XML, with what it cannot carry listed. */
  'vm.exportLibvirt': ExportLibvirtRequest,
  /** A new VM from a domain XML (text, a file, or a domain of a libvirt host). */
  'vm.importLibvirt': ImportLibvirtRequest,
  /** Backups (engine/backup): full or incremental, live or offline, into a repository folder. */
  /** `key` encrypts the point (and a new chain); an encrypted chain needs its key for every point. */
  'backup.create': Vm.extend({
    repository: Repository,
    full: z.boolean().default(false),
    key: BackupKey.nullable().default(null),
  }),
  /** The backups of one VM (by name, or by id once it was deleted) or of all, oldest first. */
  'backup.list': z.object({ vm: VmRef.nullable().default(null), repository: Repository }),
  'backup.verify': z.object({
    backup: BackupId,
    mode: z.enum(['quick', 'full']).default('quick'),
    repository: Repository,
    key: BackupKey.nullable().default(null),
  }),
  /**
   * The boot drill: the point restored into a throwaway VM with no network, started, watched until
   * `for` passes (default: the guest agent), its screen kept, the VM deleted.
   */
  'backup.drill': z.object({
    backup: BackupId,
    for: z.array(z.string().min(1).max(200)).max(16).default([]),
    timeoutSec: z.number().int().min(1).max(86_400).default(300),
    repository: Repository,
    key: BackupKey.nullable().default(null),
  }),
  /**
   * Retention: keeps what the policy names (the newest N, the newest of each of the last N days
   * and ISO weeks, UTC), removes the rest, merging a removed point into a kept child.
   */
  'backup.prune': z.object({
    vm: VmRef,
    keepLast: z.number().int().min(0).max(100_000).default(0),
    keepDaily: z.number().int().min(0).max(100_000).default(0),
    keepWeekly: z.number().int().min(0).max(100_000).default(0),
    dryRun: z.boolean().default(false),
    repository: Repository,
    key: BackupKey.nullable().default(null),
  }),
  /**
   * A new VM from a backup point (with the points under it), named `name`. Instant: the VM starts
   * at once on overlays over the backup, and its data is streamed in while it runs.
   */
  'backup.restore': z.object({
    backup: BackupId,
    name: CreateVmRequest.shape.name,
    repository: Repository,
    instant: z.boolean().default(false),
    key: BackupKey.nullable().default(null),
  }),
  /**
   * The point back into the VM it was taken of (stopped), its current state kept first as a
   * snapshot; refused when a disk is gone or was resized since.
   */
  'backup.restoreInPlace': z.object({
    backup: BackupId,
    repository: Repository,
    key: BackupKey.nullable().default(null),
  }),
  /** A point (a backup id, or a VM's newest) and the points under it as one tar file, never replaced. */
  'backup.export': z.object({
    backup: z.string().min(1).max(200),
    file: AbsolutePath,
    repository: Repository,
  }),
  /** An exported archive, checked as untrusted input, into the default repository and restored as a new VM. */
  'backup.import': z.object({
    file: AbsolutePath,
    name: CreateVmRequest.shape.name,
    key: BackupKey.nullable().default(null),
  }),
  /** libvirt hosts (engine/hosts): named connections, their domains, and publishing a VM there. */
  'remote.hosts': z.object({}),
  'remote.addHost': HostAddRequest,
  /** Forgets the connection; nothing on the host changes. */
  'remote.removeHost': HostRef,
  'remote.domains': HostRef,
  'remote.action': DomainAction,
  'remote.address': DomainRef,
  'remote.snapshot': RemoteSnapshotRequest,
  /** A console id for the domain: open console/vnc/<id> and console/serial/<id> as for a VM. */
  'remote.console': DomainRef,
  /** The stopped VM's disks flattened and uploaded to the host's pool, the domain defined and started. */
  'vm.publish': PublishRequest,
} as const;

export type ApiMethod = keyof typeof ApiParams;
export type ApiParamsOf<M extends ApiMethod> = z.input<(typeof ApiParams)[M]>;

export interface VmDetail {
  config: VmConfig;
  state: StateChange;
  busy: string | null;
  accel: 'kvm' | 'tcg';
  /** The readiness watch's latest answer while the VM runs (null when not watched). */
  readiness?: Readiness | null;
}

export interface ApiResults {
  'host.info': HostInfo;
  'vm.list': VmSummary[];
  'vm.get': VmDetail;
  'vm.create': VmConfig;
  'vm.demo': VmConfig;
  'vm.edit': VmConfig;
  'vm.clone': VmConfig;
  'vm.delete': DeleteResult;
  'vm.start': StateChange;
  'vm.reseed': VmConfig;
  'vm.stats': { samples: StatsSample[]; intervalMs: number };
  'host.stats': { vms: { id: string; name: string; sample: StatsSample }[] };
  'vm.linkedClone': VmConfig;
  'vm.makeIndependent': VmConfig;
  'template.set': VmConfig;
  'baseline.set': VmConfig;
  'baseline.reset': { config: VmConfig; ms: number };
  'baseline.clear': VmConfig;
  'snapshot.edit': SnapshotMeta;
  'vm.stop': StateChange;
  'vm.pause': StateChange;
  'vm.resume': StateChange;
  'vm.reset': StateChange;
  'vm.sendKeys': null;
  'vm.typeText': null;
  'vm.screenshot': { png: string };
  'vm.lastFrame': { png: string | null; at: string | null };
  'vm.monitor': { output: string };
  'vm.log': { text: string };
  'vm.history': JournalEntry[];
  'snapshot.list': (SnapshotMeta & {
    current: boolean;
    missingIn: string[];
    ramBytes: number;
    ownBytes: number | null;
    thumbnail: boolean;
  })[];
  /** warning: taken, but something needs the user's attention (a guest that may still be frozen). */
  'snapshot.create': SnapshotMeta & { warning?: string };
  'snapshot.revert': SnapshotMeta;
  'snapshot.delete': null;
  'snapshot.thumbnail': { png: string | null };
  'media.insert': VmConfig;
  'media.eject': VmConfig;
  'disk.add': VmConfig;
  'disk.remove': { config: VmConfig; deleted: string | null };
  'disk.resize': VmConfig;
  'disk.convert': VmConfig;
  /**
   * ISOs used by VMs here, and those in ~/Downloads, newest first. For the UI, `grants` maps each
   * path the engine found itself to a grant for it (the UI may not send paths back).
   */
  'host.isos': { recent: string[]; downloads: string[]; grants?: Record<string, string> };
  /** null: not found (the page uploads a copy). For the app, with the grant its kind needs. */
  'host.findDropped': { path: string; name: string; grant?: string } | null;
  'host.sshKeys': { user: string; keys: { file: string; key: string }[] };
  'host.space': { free: number; total: number };
  'disk.info': DiskInfoResult;
  'vm.address': VmAddress;
  'vm.exec': {
    exitCode: number | null;
    signal: number | null;
    stdout: string;
    stderr: string;
    truncated: boolean;
  };
  'vm.copyIn': CopyResult;
  'vm.copyOut': CopyResult;
  'vm.wait': { checks: { check: string; detail: string }[] };
  'picker.open': { id: string; url: string };
  'picker.wait': PickedFile | null;
  'lab.plan': { lab: string; plan: LabPlanEntry[] };
  'lab.up': LabStatus;
  'lab.list': LabStatus[];
  'lab.status': LabStatus;
  'lab.down': LabStatus;
  'lab.reset': { ms: number; status: LabStatus };
  'lab.destroy': { deleted: string[] };
  'lab.wait': LabStatus;
  'lab.baseline': LabStatus;
  'lab.export': { text: string };
  'lab.capture': unknown;
  'vm.exportLibvirt': LibvirtExport;
  'vm.importLibvirt': { vm: VmConfig; dropped: string[] };
  'backup.create': BackupResult;
  'backup.list': BackupList;
  'backup.verify': BackupVerifyResult;
  'backup.restore': VmConfig;
  'backup.restoreInPlace': { vm: VmConfig; keptAs: string; droppedBitmaps: string[] };
  'backup.export': { file: string; backup: string; vm: string; bytes: number };
  'backup.import': VmConfig;
  'backup.prune': BackupPruneResult;
  'backup.drill': BackupDrillResult;
  'remote.hosts': LibvirtHost[];
  'remote.addHost': LibvirtHost & { version: string | null };
  'remote.removeHost': LibvirtHost;
  'remote.domains': RemoteDomain[];
  'remote.action': RemoteDomain;
  'remote.address': RemoteAddress;
  'remote.snapshot': string[];
  'remote.console': { id: string };
  'vm.publish': PublishResult;
  'image.list': ImageEntry[];
  'image.add': ImageMeta;
  'image.importOva': { vm: VmConfig; image: ImageMeta; notHonoured: string[] };
  'image.planOva': OvaPlan;
  'image.pull': ImageMeta;
  'image.remove': ImageMeta;
  'image.verify': VerifyResult[];
  'image.catalog': CatalogItem[];
  'os.search': CatalogOs[];
  'iso.identify': IsoIdentity;
}

/** Events pushed to every client: state transitions, progress of long operations, config changes. */
export type ApiEvents = {
  state: StateChange;
  progress: { id: string; operation: string; percent: number; step: string };
  config: { id: string; config: VmConfig | null };
  busy: { id: string; operation: string | null };
  readiness: { id: string; readiness: Readiness | null };
  stats: { samples: { id: string; sample: StatsSample }[] };
  lab: LabEvent;
};
