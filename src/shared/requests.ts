// Requests that create or change things. Every front end (CLI, IPC, WebSocket) parses its input
// with these before it reaches the engine, so the engine sees only well-formed values.
import { z } from 'zod';
import { ImageRef } from './images';
import {
  AbsolutePath,
  CpuModel,
  DirectBoot,
  DiskBus,
  DiskFormat,
  Firmware,
  MachineType,
  OsType,
  LinuxUserName,
  PortForward,
  SshPublicKey,
  Tags,
  VmName,
} from './vm';

/**
 * A file the user picked, as the engine handed it out (engine/policy/grants.ts): `grant:` and 128
 * random bits. The renderer is untrusted, so it never names a host file itself; it passes these
 * instead, and the dispatcher swaps each for the path the user chose before the engine sees it.
 */
export const GRANT_REF = /^grant:[A-Za-z0-9_-]{22}$/;

export function isGrantRef(value: unknown): value is string {
  return typeof value === 'string' && GRANT_REF.test(value);
}

/**
 * What a picked file is for: the picker filters by it, and a grant is usable only for it (a file
 * chosen as a read-only ISO never comes back as a disk the VM writes). `file`: any file to copy
 * into a guest. `folder`: a folder (not a file) to share with a guest (engine/share).
 */
export const PickPurpose = z.enum(['iso', 'disk', 'kernel', 'initrd', 'file', 'folder']);
export type PickPurpose = z.infer<typeof PickPurpose>;

/** A file chosen in the picker (or the desktop app's file dialog): the grant, and for display its name and path. */
export interface PickedFile {
  grant: string;
  name: string;
  path: string;
}

/**
 * A host file named by a request: an absolute path (the CLI, run by the user) or a grant
 * reference (the UI). Which of the two a caller may use is the dispatcher's decision.
 */
export const HostFile = z
  .string()
  .min(2, 'Path is empty.')
  .max(4000, 'Path is too long.')
  .refine((p) => p.startsWith('/') || isGrantRef(p), 'Path must be absolute (start with /).')
  .refine((p) => !p.includes('\u0000'), 'Path contains a NUL byte.')
  .meta({ hostFile: true });

/** Direct kernel boot as requested: kernel and initrd are host files (paths or grants). */
export const DirectBootRequest = DirectBoot.extend({
  kernel: HostFile,
  initrd: HostFile.optional(),
});

/** A size as typed ("20G") or a byte count; the engine checks bounds (1M to 64T). */
export const SizeInput = z.union([z.string().max(32), z.number().int().positive()]);

export const NewDisk = z.object({
  kind: z.literal('new'),
  size: SizeInput,
  format: DiskFormat.default('qcow2'),
  preallocation: z.enum(['off', 'metadata', 'falloc', 'full']).default('off'),
  bus: DiskBus.optional(),
});

export const ExistingDisk = z.object({
  kind: z.literal('existing'),
  path: HostFile,
  /** Omitted: read from the image header (qcow2 or raw only). */
  format: DiskFormat.optional(),
  bus: DiskBus.optional(),
  /** Copy the image into the VM's directory (owned) instead of using it in place (external). */
  copy: z.boolean().default(false),
  /**
   * The backing chain the user confirmed, real paths nearest first. An image built on other files
   * is refused unless this names exactly its chain (see engine/policy/chain.ts). From the UI the
   * chain is the one the user confirmed in the picker, carried by the grant (api/callers.ts).
   */
  confirmChain: z.array(AbsolutePath).max(16).optional(),
  /** Use a host block device (the VM writes it directly); never implied. */
  blockDevice: z.boolean().default(false),
});

export const DiskRequest = z.discriminatedUnion('kind', [
  NewDisk,
  ExistingDisk,
  z.object({ kind: z.literal('none') }),
]);
export type DiskRequest = z.infer<typeof DiskRequest>;

/** What a VM made from a cloud image tells cloud-init; every field has a default. */
export const CloudInitRequest = z.object({
  /** Default: the host user's name (hangar when that is root). */
  user: LinuxUserName.optional(),
  /** Default: ~/.ssh/*.pub; Hangar's own key for `hangar ssh` is always added. */
  sshKeys: z.array(SshPublicKey).max(32).optional(),
  /** Stored hashed only; without one the user logs in with a key. */
  password: z.string().min(1).max(200).optional(),
  /** Extra user-data: a #cloud-config document or a script, checked before use. */
  userData: z
    .string()
    .max(256 * 1024)
    .optional(),
  /** A NoCloud network-config (version 1 or 2); default: DHCP on the first NIC. */
  networkConfig: z
    .string()
    .max(64 * 1024)
    .optional(),
});
export type CloudInitRequest = z.infer<typeof CloudInitRequest>;

export const CreateVmRequest = z.object({
  name: VmName,
  osType: OsType.default('linux'),
  description: z.string().max(4000).optional(),
  tags: Tags.optional(),
  cpus: z.number().int().min(1).max(256).optional(),
  memoryMiB: z
    .number()
    .int()
    .min(32)
    .max(4 * 1024 * 1024)
    .optional(),
  firmware: Firmware.optional(),
  tpm: z.boolean().optional(),
  machine: MachineType.optional(),
  cpuModel: CpuModel.optional(),
  disk: DiskRequest.default({ kind: 'new', size: '20G', format: 'qcow2', preallocation: 'off' }),
  iso: HostFile.nullable().default(null),
  network: z
    .object({ portForwards: z.array(PortForward).max(64).default([]) })
    .nullable()
    .default({ portForwards: [] }),
  directBoot: DirectBootRequest.nullable().default(null),
  /** Set for a cloud image: a NoCloud seed is made and attached (engine/cloudinit). */
  cloudInit: CloudInitRequest.nullable().default(null),
  /** Grow the VM's own copy of an existing image to this size (cloud images come small). */
  diskSize: SizeInput.optional(),
  /**
   * A library image (engine/images) by id, id prefix or name: a disk image becomes the backing
   * file of the VM's own overlay (a linked clone, made in milliseconds); an ISO goes in the CD drive.
   */
  image: ImageRef.optional(),
  /** An osinfo-db short-id (as virt-install --os-variant): its recommended settings fill what is not given. */
  osVariant: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'An OS short-id looks like debian12 or win11 (hangar os search).')
    .optional(),
  bootOrder: z
    .array(z.enum(['disk', 'cdrom', 'network']))
    .max(3)
    .optional(),
  display: z
    .object({ vga: z.enum(['std', 'virtio', 'qxl', 'none']).optional(), usbTablet: z.boolean().optional() })
    .optional(),
});
export type CreateVmRequest = z.input<typeof CreateVmRequest>;
export type CreateVmParsed = z.output<typeof CreateVmRequest>;

/** Fields that may change while the VM is stopped. Devices are edited with their own calls. */
export const EditVmRequest = z.object({
  name: VmName.optional(),
  description: z.string().max(4000).optional(),
  tags: Tags.optional(),
  cpus: z.number().int().min(1).max(256).optional(),
  memoryMiB: z
    .number()
    .int()
    .min(32)
    .max(4 * 1024 * 1024)
    .optional(),
  firmware: Firmware.optional(),
  tpm: z.boolean().optional(),
  machine: MachineType.optional(),
  cpuModel: CpuModel.nullable().optional(),
  bootOrder: z
    .array(z.enum(['disk', 'cdrom', 'network']))
    .max(3)
    .optional(),
  portForwards: z.array(PortForward).max(64).optional(),
  directBoot: DirectBootRequest.nullable().optional(),
  /** A folder to share with the guest (a path or a grant), or null to stop sharing. */
  sharedFolder: HostFile.nullable().optional(),
  /** The guest may read the shared folder but not change it (with sharedFolder, or for the current one). */
  shareReadOnly: z.boolean().optional(),
  /** Also offer the shared folder over virtio-9p (a device in the guest; see VmConfig). */
  share9p: z.boolean().optional(),
});
export type EditVmRequest = z.infer<typeof EditVmRequest>;
