// hangar.lab.yaml: a whole test environment in one file (networks between VMs, the VMs, how they
// come up and when they are ready). Versioned like vm.json; every object is strict, so a typo in a
// key is an error that names it instead of a setting silently ignored. Shared, so the app's lab
// editor checks a file with the same rules as `hangar lab validate`.
import { z } from 'zod';
import { LinuxUserName } from '../vm';

export const LAB_FILE_VERSION = 1;

/** Lab, VM, network and matrix names become DNS labels (`<vm>.<lab>.internal`) and file names. */
export const DnsLabel = z
  .string()
  .regex(
    /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/,
    'Use 1 to 32 lowercase letters, digits and dashes, starting with a letter (it becomes a DNS name).',
  );

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
export const Ipv4 = z
  .string()
  .regex(new RegExp(`^${OCTET}(\\.${OCTET}){3}$`), 'Not an IPv4 address like 10.10.0.5.');
export const Cidr = z
  .string()
  .regex(
    new RegExp(`^${OCTET}(\\.${OCTET}){3}/(1[6-9]|2[0-8])$`),
    'Not a subnet like 10.10.0.0/24 (prefix 16 to 28).',
  );

/** Sizes as people write them: 512M, 2G, 20G (binary units). */
export const Size = z.string().regex(/^[1-9][0-9]{0,6}[MGT]$/, 'Write a size like 512M, 2G or 20G.');

/** host:guest, TCP unless /udp: the NAT port forwards of the VM's own user-mode NIC. */
export const Forward = z
  .string()
  .regex(
    /^([1-9][0-9]{0,4}):([1-9][0-9]{0,4})(\/(tcp|udp))?$/,
    'Write a forward as HOST:GUEST, e.g. 8080:80.',
  )
  .refine(
    (f) =>
      f
        .split(/[:/]/)
        .slice(0, 2)
        .every((p) => Number(p) <= 65535),
    'A port is at most 65535.',
  );

/**
 * When a VM counts as ready: the checks of a cloud image (agent, cloud-init, ip, ssh), a port
 * listening in the guest, an HTTP answer through a forward, or a line on the serial console.
 */
export const ReadyCheck = z.union([
  z.enum(['agent', 'cloud-init', 'ip', 'ssh']),
  z.string().regex(/^port:[1-9][0-9]{0,4}$/, 'Write port:N for a port listening in the guest.'),
  z.string().regex(/^http:[1-9][0-9]{0,4}(\/[\x21-\x7e]*)?$/, 'Write http:PORT/path for an HTTP check.'),
  z.string().regex(/^serial:[\x20-\x7e]{1,200}$/, 'Write serial:TEXT for a line on the serial console.'),
]);

export const LabNic = z.strictObject({
  /** A network of this lab's `networks`. */
  network: DnsLabel,
  /** A fixed address on it; otherwise one is given from the subnet, the same on every `up`. */
  ip: Ipv4.optional(),
});

/** A command run once after the VM is first ready; through the guest agent unless `via: ssh`. */
export const Provision = z.union([
  z.string().min(1).max(4096),
  z.strictObject({ run: z.string().min(1).max(4096), via: z.enum(['agent', 'ssh']).default('agent') }),
]);

/** Where a VM comes from: exactly one of these (a matrix entry may give it instead). */
const SOURCE_KEYS = ['image', 'template', 'iso', 'vm'] as const;
export type SourceKey = (typeof SOURCE_KEYS)[number];
export { SOURCE_KEYS };

const sourceFields = {
  /** A cloud image file (qcow2 or raw): the VM is a linked clone of it, with cloud-init. */
  image: z.string().min(1).max(4000).optional(),
  /** A Hangar template by name: a linked clone, made in milliseconds. */
  template: z.string().min(1).max(100).optional(),
  /** An installer ISO: the VM boots it with a new blank disk. */
  iso: z.string().min(1).max(4000).optional(),
  /** An existing Hangar VM by name, used as it is (the lab never deletes it). */
  vm: z.string().min(1).max(100).optional(),
};

/** What a matrix entry may set: the source and the size of the VM. */
export const MatrixEntry = z.strictObject({
  ...sourceFields,
  cpus: z.number().int().min(1).max(64).optional(),
  memory: Size.optional(),
  user: LinuxUserName.optional(),
});

export const LabVm = z.strictObject({
  ...sourceFields,
  cpus: z.number().int().min(1).max(64).optional(),
  memory: Size.optional(),
  /** Extra blank disks. */
  disks: z
    .array(z.strictObject({ size: Size }))
    .max(8)
    .optional(),
  nics: z.array(LabNic).max(8).optional(),
  forwards: z.array(Forward).max(32).optional(),
  /** The cloud image's user (default: the image's own default, or `hangar`). */
  user: LinuxUserName.optional(),
  /** Extra cloud-init user-data (#cloud-config or a script). */
  userData: z
    .string()
    .max(64 * 1024)
    .optional(),
  provision: z.array(Provision).max(50).optional(),
  ready: z.array(ReadyCheck).max(16).optional(),
  /** VMs of this lab that must be ready before this one starts. */
  dependsOn: z.array(DnsLabel).max(32).optional(),
  /** One entry expanded over several sources, named `<vm>-<key>`. */
  matrix: z.record(DnsLabel, MatrixEntry).optional(),
});
export type LabVm = z.infer<typeof LabVm>;

export const LabNetwork = z.strictObject({
  subnet: Cidr,
  /** Addresses handed out by the lab switch (static leases from the VMs' `ip` and the given ones). */
  dhcp: z.boolean().default(true),
});

export const LabFile = z.strictObject({
  version: z.literal(LAB_FILE_VERSION, {
    error: `This Hangar reads lab files of version ${LAB_FILE_VERSION}.`,
  }),
  name: DnsLabel,
  /** on-ready: the lab baseline (RAM included) is taken once every VM is ready. */
  baseline: z.enum(['on-ready', 'none']).default('none'),
  networks: z.record(DnsLabel, LabNetwork).default({}),
  vms: z
    .record(DnsLabel, LabVm)
    .refine((v) => Object.keys(v).length > 0, 'A lab has at least one VM.')
    .refine((v) => Object.keys(v).length <= 64, 'A lab has at most 64 VMs.'),
});
export type LabFile = z.infer<typeof LabFile>;
