// What Hangar remembers about a lab between commands: the lab file as last applied, the VM made
// for each of its entries (so `destroy` deletes those and only those), and the snapshots that
// hold the lab baseline and the saved lab. Kept in $HANGAR_HOME/labs/<name>/lab-state.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { HangarError } from '../../../shared/errors';
import { NetName, Nic, VmId } from '../../../shared/vm';
import { writeFileAtomic } from '../config/atomic';
import { ensurePrivateDir, labPaths } from '../config/paths';

const When = z.iso.datetime();

export const LabState = z.object({
  version: z.literal(1),
  name: NetName,
  /** The lab file as applied (the text), and where it was read from when it came from a file. */
  text: z.string().max(1024 * 1024),
  sourceFile: z.string().nullable(),
  appliedAt: When,
  /** Lab VM name (`db`, `client-tiny`) -> the VM made for it. */
  vms: z.record(
    z.string(),
    z.object({
      id: VmId,
      hash: z.string(),
      provisioned: z.boolean(),
      /** The lab's extra disks made so far (disk ids): a longer list in the file adds disks. */
      disks: z.array(z.string()).max(16).default([]),
      /**
       * Set for a VM the lab borrowed (`vm:` in the file): its NICs before the lab added its own,
       * given back at destroy, which never deletes it.
       */
      borrowed: z
        .object({
          nics: z.array(Nic).max(16),
          /** Its cloud-init network-config before the lab's (null: cloud-init's default). */
          network: z
            .string()
            .max(64 * 1024)
            .nullable()
            .default(null),
        })
        .optional(),
    }),
  ),
  /**
   * Set when no switch could start at the lab's first up: its networks are multicast groups on
   * 127.0.0.1 for the lab's life (not isolated; no DHCP or DNS: addresses are set statically).
   */
  fallback: z
    .object({
      reason: z.string().max(2000),
      groups: z.record(z.string(), z.object({ group: z.string(), port: z.number().int() })),
    })
    .nullable()
    .default(null),
  /** The lab baseline: per VM id, the snapshot (with RAM) taken with the whole lab paused. */
  baseline: z.object({ takenAt: When, snapshots: z.record(VmId, z.string()) }).nullable(),
  /** Set by `lab down`: per VM id, the snapshot the next `up` resumes from. */
  saved: z.object({ savedAt: When, snapshots: z.record(VmId, z.string()) }).nullable(),
  /** Saved-lab snapshots already resumed from: deleted by the next `down`, not left to pile up. */
  stale: z
    .array(z.object({ id: VmId, snapshot: z.string() }))
    .max(10_000)
    .default([]),
});
export type LabState = z.infer<typeof LabState>;

export function loadLabState(home: string, name: string): LabState | null {
  const file = labPaths(home, name).stateFile;
  if (!existsSync(file)) return null;
  try {
    return LabState.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new HangarError(
      'CONFIG_CORRUPT',
      `The state of lab "${name}" (${file}) cannot be read: ${(err as Error).message}. ` +
        'Nothing was changed; fix or remove the file.',
    );
  }
}

export function saveLabState(home: string, state: LabState): void {
  const p = labPaths(home, state.name);
  ensurePrivateDir(join(home, 'labs'));
  ensurePrivateDir(p.dir);
  writeFileAtomic(p.stateFile, `${JSON.stringify(LabState.parse(state), null, 2)}\n`);
}

/** Names of the labs that have a state file. */
export function labNames(home: string): string[] {
  const dir = join(home, 'labs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => NetName.safeParse(n).success && existsSync(labPaths(home, n).stateFile))
    .sort();
}
