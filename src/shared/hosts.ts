// libvirt hosts (issue 16) as the API sees them: a registry of named connections, the domains
// on each, and publishing a VM there.
import { z } from 'zod';
import { CONTROL_CHARS } from './vm';
import { LibvirtUri } from './libvirt';

/** A host's name in Hangar: short and plain, as a docker context or an ssh alias. */
export const HostName = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'A host name uses letters, digits, ".", "_" and "-" (like an ssh alias).',
  );

/** A domain or snapshot name as libvirt takes it: no slash, no control characters. */
export const LibvirtName = z
  .string()
  .min(1)
  .max(200)
  .refine((n) => !n.includes('/') && !CONTROL_CHARS.test(n) && n.trim() === n, 'Not a libvirt name.');

/** A storage pool on the host (virsh pool-list). */
export const PoolName = LibvirtName;

export interface LibvirtHost {
  name: string;
  uri: string;
  /** ISO time it was added. */
  added: string;
}

/** virsh's domain states (virDomainState), as virsh domstate words. */
export type RemoteState =
  'no state' | 'running' | 'blocked' | 'paused' | 'in shutdown' | 'shut off' | 'crashed' | 'pmsuspended';

export interface RemoteDomain {
  name: string;
  state: RemoteState;
}

export const HostAddRequest = z.object({ name: HostName, uri: LibvirtUri });
export const HostRef = z.object({ host: HostName });
export const DomainRef = HostRef.extend({ domain: LibvirtName });

export const DomainAction = DomainRef.extend({
  /** start; shutdown asks the guest (ACPI); destroy is a power cut, as virsh destroy. */
  action: z.enum(['start', 'shutdown', 'destroy']),
});

export const RemoteSnapshotRequest = DomainRef.extend({
  action: z.enum(['create', 'list', 'revert']),
  /** The snapshot's name (create, revert). */
  snapshot: LibvirtName.optional(),
});

export const PublishRequest = z.object({
  vm: z.string().min(1).max(200),
  host: HostName,
  /** The storage pool the disks are uploaded to. */
  pool: PoolName.default('default'),
  /** The domain's name there; by default the VM's. */
  name: LibvirtName.optional(),
  /** Start the domain once it is defined. */
  start: z.boolean().default(true),
  /** Default: kvm. A host without working KVM needs qemu. */
  domainType: z.enum(['kvm', 'qemu']).default('kvm'),
});

export interface PublishResult {
  host: string;
  domain: string;
  uuid: string;
  /** The volumes made in the pool, in upload order. */
  volumes: { name: string; path: string; bytes: number }[];
  started: boolean;
  dropped: string[];
  /**
   * Published while running: the disks are a copy at one point in time, with the guest's
   * filesystems frozen by its agent ('frozen') or not ('crash-consistent'). Null when stopped.
   */
  pointInTime: 'frozen' | 'crash-consistent' | null;
  /** Something the user should know, e.g. the agent did not confirm it thawed the guest. */
  warning?: string;
}

export interface RemoteAddress {
  domain: string;
  /** From the guest agent (virsh domifaddr --source agent); null when none answers. */
  ipv4: string | null;
  ipv6: string | null;
}
