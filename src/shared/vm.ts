// vm.json: the versioned schema of one VM's configuration. Shared by the engine (which owns the
// files) and by the renderer's wizard (which validates inline with the same rules).
import { z } from 'zod';

export const VM_SCHEMA_VERSION = 1;

/** Control characters would break logs, terminals and QEMU's own option parser, so names refuse them. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/u;

export const VmName = z
  .string()
  .min(1, 'Name is empty: give the VM a name.')
  .max(100, 'Name is longer than 100 characters: shorten it.')
  .refine((s) => s.trim().length > 0, 'Name is only spaces: give the VM a name.')
  .refine((s) => !CONTROL_CHARS.test(s), 'Name contains a line break or control character: remove it.');

/** Ids are ours, never user text, so they are safe in file names, socket paths and QEMU ids. */
export const VmId = z.string().regex(/^[a-z0-9]{12}$/, 'Not a VM id (12 lowercase letters or digits).');
export const DeviceId = z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, 'Device ids are short lowercase words.');

export const OS_TYPES = ['linux', 'windows10', 'windows11', 'bsd', 'other'] as const;
export const OsType = z.enum(OS_TYPES);
export type OsType = z.infer<typeof OsType>;

export const AbsolutePath = z
  .string()
  .min(2, 'Path is empty.')
  .max(4000, 'Path is too long.')
  .refine((p) => p.startsWith('/'), 'Path must be absolute (start with /).')
  .refine((p) => !p.includes('\u0000'), 'Path contains a NUL byte.');

/** A file inside the VM's own directory: a plain file name, so it can never escape that directory. */
export const OwnedFileName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._-]+$/, 'Owned disk file names use letters, digits, dot, dash and underscore.')
  .refine((f) => f !== '.' && f !== '..' && !f.startsWith('-'), 'Not a usable file name.');

export const DiskFormat = z.enum(['qcow2', 'raw']);
export const DiskBus = z.enum(['virtio', 'sata', 'ide', 'scsi']);
export const CacheMode = z.enum(['none', 'writeback', 'writethrough', 'directsync', 'unsafe']);

/** One file under an external qcow2 image, with its format; confirmed by the user, pinned in argv. */
export const BackingLink = z.object({ path: AbsolutePath, format: DiskFormat });
export type BackingLink = z.infer<typeof BackingLink>;

export const Disk = z.discriminatedUnion('owned', [
  z.object({
    id: DeviceId,
    owned: z.literal(true),
    file: OwnedFileName,
    format: DiskFormat,
    bus: DiskBus,
    readOnly: z.boolean().default(false),
    cache: CacheMode.default('writeback'),
    discard: z.boolean().default(true),
  }),
  z.object({
    id: DeviceId,
    // An external disk is used in place and never deleted with the VM.
    owned: z.literal(false),
    path: AbsolutePath,
    format: DiskFormat,
    /** The files the image is built on, nearest first, exactly as confirmed; QEMU opens no other. */
    backingChain: z.array(BackingLink).max(16).default([]),
    /** A host block device, attached only when asked for explicitly. */
    blockDevice: z.boolean().default(false),
    bus: DiskBus,
    readOnly: z.boolean().default(false),
    cache: CacheMode.default('writeback'),
    discard: z.boolean().default(true),
  }),
]);
export type Disk = z.infer<typeof Disk>;

export const Cdrom = z.object({
  id: DeviceId,
  bus: z.enum(['sata', 'ide', 'scsi']),
  /** null is an empty drive; ISOs are never owned by a VM. */
  media: AbsolutePath.nullable(),
});
export type Cdrom = z.infer<typeof Cdrom>;

export const Port = z
  .number()
  .int()
  .min(1, 'Ports run from 1 to 65535.')
  .max(65535, 'Ports run from 1 to 65535.');

export const PortForward = z.object({
  protocol: z.enum(['tcp', 'udp']),
  hostAddress: z.enum(['127.0.0.1', '0.0.0.0']).default('127.0.0.1'),
  hostPort: Port,
  guestPort: Port,
});
export type PortForward = z.infer<typeof PortForward>;

export const MacAddress = z
  .string()
  .regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, 'MAC addresses look like 52:54:00:12:34:56 (lowercase).')
  .refine((m) => (parseInt(m.slice(0, 2), 16) & 1) === 0, 'A multicast MAC cannot be used for a NIC.');

/** A lab or segment name: a DNS label, so it is safe in socket paths, QEMU ids and DNS names. */
export const NetName = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/,
    'Use 1-32 lowercase letters, digits and dashes (a DNS label).',
  );

export const Nic = z
  .object({
    id: DeviceId,
    model: z.enum(['virtio', 'e1000e', 'rtl8139']),
    mac: MacAddress,
    /** user: QEMU's own NAT with port forwards. lab: a port on a lab segment's switch. */
    mode: z.enum(['user', 'lab']),
    portForwards: z.array(PortForward).max(64).default([]),
    /**
     * Names only, never a path: the NIC's socket is <runtime dir>/nic-<id>.sock, which the lab's
     * switch connects to; the names say which lab and network it belongs to.
     */
    segment: z
      .object({
        lab: NetName,
        name: NetName,
        /**
         * Set when no lab switch could run: the segment is a multicast group on 127.0.0.1
         * (QEMU's socket netdev) instead, which every local process can join: not isolated.
         */
        mcast: z
          .object({
            group: z
              .string()
              .regex(
                /^239\.(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){2}$/,
                'Not a 239.x.y.z group.',
              ),
            port: z.number().int().min(1024).max(65535),
          })
          .optional(),
      })
      .nullable()
      .default(null),
  })
  .superRefine((n, ctx) => {
    if (n.mode === 'lab' && !n.segment) {
      ctx.addIssue({ code: 'custom', message: 'A lab NIC names its lab and segment.', path: ['segment'] });
    }
    if (n.mode === 'user' && n.segment) {
      ctx.addIssue({ code: 'custom', message: 'Only a lab NIC has a segment.', path: ['segment'] });
    }
    if (n.mode === 'lab' && n.portForwards.length) {
      ctx.addIssue({
        code: 'custom',
        message: 'Port forwards belong on the user-mode NIC, not on a lab segment.',
        path: ['portForwards'],
      });
    }
  });
export type Nic = z.infer<typeof Nic>;

export const Firmware = z.enum(['bios', 'uefi', 'uefi-secure']);
export type Firmware = z.infer<typeof Firmware>;

export const DirectBoot = z.object({
  kernel: AbsolutePath,
  initrd: AbsolutePath.optional(),
  // A NUL cannot stand in a command-line argument: spawn() would refuse the whole start.
  cmdline: z
    .string()
    .max(4096)
    .refine((s) => !s.includes('\u0000'), 'The kernel command line contains a NUL byte.')
    .default(''),
});

export const BootDevice = z.enum(['disk', 'cdrom', 'network']);

/** A CPU model name for -cpu; never starting with '-', so it can never read as an option. */
export const CpuModel = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'CPU models are names like max or Skylake-Client.');

export const MachineType = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'Machine types are names like q35 or pc-q35-7.2.');

/** The machine a snapshot was taken with (see engine/snapshot-hardware.ts). */
export const SnapshotHardware = z.object({
  cpus: z.number().int().min(1).max(256),
  memoryMiB: z
    .number()
    .int()
    .min(32)
    .max(4 * 1024 * 1024),
  machine: MachineType,
  cpuModel: CpuModel.nullable(),
  firmware: Firmware,
  tpm: z.boolean(),
  disks: z.array(Disk).max(16),
  cdroms: z.array(Cdrom).max(4),
  nics: z.array(z.object({ id: DeviceId, model: Nic.shape.model, mac: MacAddress })).max(8),
  display: z.object({ vga: z.enum(['std', 'virtio', 'qxl', 'none']), usbTablet: z.boolean() }),
  bootOrder: z.array(BootDevice).max(3),
  directBoot: DirectBoot.nullable(),
  /** The shared folder's 9p device was present (older records: it was not). */
  share9p: z.boolean().default(false),
});
export type SnapshotHardware = z.infer<typeof SnapshotHardware>;

/** Names and the tree live here; which snapshots exist is read from the qcow2 images themselves. */
export const SnapshotMeta = z.object({
  id: z.string().regex(/^[a-z0-9]{8}$/),
  /** The tag inside the images: ours, never user text. */
  tag: z.string().regex(/^hs-[a-z0-9]{8}$/),
  name: z.string().min(1).max(200),
  description: z.string().max(4000).default(''),
  createdAt: z.iso.datetime(),
  parent: z.string().nullable(),
  /** True when the guest's RAM was saved too (taken while running). */
  vmState: z.boolean(),
  /**
   * For disk-only snapshots of a running VM: 'frozen' when the guest agent froze the guest's
   * filesystems, 'crash' when it could not (the disks are as after a power cut). Absent otherwise.
   */
  consistency: z.enum(['frozen', 'crash']).optional(),
  /** Absent on snapshots taken before Hangar recorded it. */
  hardware: SnapshotHardware.optional(),
});
export type SnapshotMeta = z.infer<typeof SnapshotMeta>;

/** One OpenSSH public key line: type, base64 key, optional comment; never a line break. */
export const SshPublicKey = z
  .string()
  .max(16_384)
  .regex(
    // eslint-disable-next-line no-control-regex -- a key's comment must not hide a NUL or a line break
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n\u0000]*)?$/,
    'Not an SSH public key (one line like "ssh-ed25519 AAAA... comment").',
  );

export const LinuxUserName = z
  .string()
  .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'User names are up to 32 lowercase letters, digits, - and _.')
  .refine((u) => u !== 'root', 'Choose a user other than root; it gets sudo.');

/** What Hangar told cloud-init (NoCloud seed, engine/cloudinit); the seed file is cidata.iso. */
export const CloudInit = z.object({
  /** New for every VM and clone; kept across reboots, reverts and resets so cloud-init runs once. */
  instanceId: z.string().regex(/^i-[a-z0-9]{16}$/),
  hostname: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/),
  user: LinuxUserName,
  sshKeys: z.array(SshPublicKey).max(32),
  /** A crypt(3) hash ($6$...), never the password. */
  passwordHash: z
    .string()
    .regex(/^\$[0-9a-z]+\$[^\s:]{1,300}$/)
    .nullable(),
  /** The host port forwarded to the guest's port 22, on 127.0.0.1. */
  sshPort: Port.nullable(),
});
export type CloudInit = z.infer<typeof CloudInit>;

/** A label for finding and acting on VMs together ("web", "ci.linux"); lowercase, no spaces. */
export const Tag = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,31}$/,
    'Tags are up to 32 lowercase letters, digits, ".", "_" and "-", starting with a letter or digit.',
  );
export const Tags = z
  .array(Tag)
  .max(32, 'At most 32 tags.')
  .refine((t) => new Set(t).size === t.length, 'Each tag once.');

export const VmConfig = z.object({
  schemaVersion: z.literal(VM_SCHEMA_VERSION),
  id: VmId,
  name: VmName,
  description: z.string().max(4000).default(''),
  tags: Tags.default([]),
  osType: OsType,
  cpus: z.number().int().min(1, 'A VM needs at least 1 CPU.').max(256, 'At most 256 CPUs.'),
  memoryMiB: z
    .number()
    .int()
    .min(32, 'Memory must be at least 32 MiB.')
    .max(4 * 1024 * 1024, 'Memory must be at most 4 TiB.'),
  machine: MachineType.default('q35'),
  /** null: the probe picks (host under working KVM, max under TCG). */
  cpuModel: CpuModel.nullable().default(null),
  firmware: Firmware,
  tpm: z.boolean().default(false),
  disks: z.array(Disk).max(16).default([]),
  cdroms: z.array(Cdrom).max(4).default([]),
  nics: z.array(Nic).max(8).default([]),
  display: z.object({
    vga: z.enum(['std', 'virtio', 'qxl', 'none']).default('std'),
    usbTablet: z.boolean().default(true),
  }),
  bootOrder: z.array(BootDevice).max(3).default(['disk', 'cdrom']),
  directBoot: DirectBoot.nullable().default(null),
  /** A host folder the guest mounts over SMB (engine/share); the user chose it. */
  sharedFolder: z
    .object({
      path: AbsolutePath,
      readOnly: z.boolean().default(false),
      /** Also over virtio-9p: a device in the guest, so it is the user's choice (RAM snapshots
       * cannot be saved while the guest has it mounted). */
      over9p: z.boolean().default(false),
    })
    .nullable()
    .default(null),
  snapshots: z.array(SnapshotMeta).max(1000).default([]),
  /** The snapshot the VM's current state descends from. */
  currentSnapshot: z.string().nullable().default(null),
  /**
   * Set while a VM made by an instant restore still reads from its backup: its disks are overlays
   * on the point's files (absolute backing names, in `repository`), streamed in while it runs.
   * Cleared once every disk holds all its data; until then prune keeps that point's chain.
   */
  instantRestore: z
    .object({
      backup: z.string().regex(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/),
      repository: AbsolutePath,
    })
    .nullable()
    .default(null),
  /** A template is never started; linked clones are made from it. */
  template: z.boolean().default(false),
  /** Set on a linked clone: its disks are overlays on this template's disks. */
  linkedTo: VmId.nullable().default(null),
  /**
   * With a baseline, each writable disk (and the UEFI variables) is an overlay on a read-only
   * base file, so reset-to-baseline only replaces the overlays: its time does not grow with size.
   */
  baseline: z
    .object({
      createdAt: z.iso.datetime(),
      /** Overlay file name -> its base file name, both in the VM's directory. */
      bases: z.record(OwnedFileName, OwnedFileName),
    })
    .nullable()
    .default(null),
  /** Set for a VM made from a cloud image: what its NoCloud seed says. */
  cloudInit: CloudInit.nullable().default(null),
  /** The OS, when known: an osinfo-db variant named or recognised, or what a library image records. */
  os: z
    .object({ shortId: z.string().max(64).nullable(), name: z.string().max(200) })
    .nullable()
    .default(null),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type VmConfig = z.infer<typeof VmConfig>;
/** The config as written by hand or by a client, before defaults are filled in. */
export type VmConfigInput = z.input<typeof VmConfig>;

/** Ids of disks, CD-ROMs and NICs share QEMU's id namespace, so they must be unique together. */
export function duplicateDeviceIds(vm: Pick<VmConfig, 'disks' | 'cdroms' | 'nics'>): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const { id } of [...vm.disks, ...vm.cdroms, ...vm.nics]) {
    if (seen.has(id)) dups.add(id);
    seen.add(id);
  }
  return [...dups];
}

function duplicateForwards(vm: Pick<VmConfig, 'nics'>): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const f of vm.nics.flatMap((n) => n.portForwards)) {
    const key = `${f.protocol}/${f.hostPort}`;
    if (seen.has(key)) dups.push(key);
    seen.add(key);
  }
  return dups;
}

/** The schema plus the checks that span fields; every vm.json read or written goes through it. */
export const CheckedVmConfig = VmConfig.superRefine((vm, ctx) => {
  for (const id of duplicateDeviceIds(vm)) {
    ctx.addIssue({ code: 'custom', message: `Device id "${id}" is used twice.`, path: ['disks'] });
  }
  for (const key of duplicateForwards(vm)) {
    ctx.addIssue({ code: 'custom', message: `Host port ${key} is forwarded twice.`, path: ['nics'] });
  }
  if (vm.firmware === 'uefi-secure' && !vm.machine.includes('q35')) {
    ctx.addIssue({ code: 'custom', message: 'Secure boot needs the q35 machine type.', path: ['firmware'] });
  }
});
