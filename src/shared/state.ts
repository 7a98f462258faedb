// Runtime state of a VM, owned by the engine and mirrored by every front end.
import { z } from 'zod';

export const VM_STATES = ['stopped', 'starting', 'running', 'paused', 'stopping', 'crashed'] as const;
export const VmState = z.enum(VM_STATES);
export type VmState = z.infer<typeof VmState>;

export const StateChange = z.object({
  id: z.string(),
  state: VmState,
  at: z.string(),
  /** Why it changed: "guest powered off", "QEMU exited (signal SIGKILL)", ... */
  reason: z.string().optional(),
  /** For crashed: the tail of qemu.log. */
  logTail: z.string().optional(),
  pid: z.number().optional(),
  /** A disposable run: every write goes to overlays that are thrown away when it stops. */
  disposable: z.boolean().optional(),
});
export type StateChange = z.infer<typeof StateChange>;
