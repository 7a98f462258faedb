// What the host can do, as found by the engine's probe. The UI shows it (accelerator and why,
// CPU and memory bounds); the argv builder consumes it.
import { z } from 'zod';

export const Binary = z.object({ path: z.string(), version: z.string() });

export const KvmStatus = z.object({
  present: z.boolean(),
  permitted: z.boolean(),
  usable: z.boolean(),
  /** Why KVM is or is not used, in words a person can act on. */
  detail: z.string(),
  hostCpuWorks: z.boolean(),
});

export const FirmwareImage = z.object({ filename: z.string(), format: z.enum(['raw', 'qcow2']) });

export const FirmwareDescriptor = z.object({
  descriptor: z.string(),
  description: z.string(),
  executable: FirmwareImage,
  varsTemplate: FirmwareImage,
  secureBoot: z.boolean(),
  enrolledKeys: z.boolean(),
  requiresSmm: z.boolean(),
  /** Glob patterns of machine types, as in the descriptor (e.g. pc-q35-*). */
  machines: z.array(z.string()),
});
export type FirmwareDescriptor = z.infer<typeof FirmwareDescriptor>;

export const MachineInfo = z.object({
  name: z.string(),
  alias: z.string().optional(),
  isDefault: z.boolean(),
});

export const HostInfo = z.object({
  qemu: Binary.extend({ major: z.number(), minor: z.number(), micro: z.number() }),
  qemuImg: Binary,
  accel: z.enum(['kvm', 'tcg']),
  accelReason: z.string(),
  accelForced: z.boolean(),
  kvm: KvmStatus,
  /** CPU models that run under the chosen accelerator; the first in `defaultCpu` is what new VMs get. */
  cpuModels: z.array(z.string()),
  defaultCpu: z.string(),
  machines: z.array(MachineInfo),
  firmware: z.array(FirmwareDescriptor),
  swtpm: Binary.nullable(),
  hostCpus: z.number(),
  hostMemoryMiB: z.number(),
  probedAt: z.string(),
});
export type HostInfo = z.infer<typeof HostInfo>;
