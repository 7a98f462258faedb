// The retention form's numbers as the engine takes them, and a prune's answer in the words of the
// history table (times, not ids). Pure, so the rules are tested without a page.
import type { BackupListEntry, BackupPruneResult } from '../../../../shared/backup';

export interface KeepFields {
  last: string;
  daily: string;
  weekly: string;
}

export interface Keep {
  keepLast: number;
  keepDaily: number;
  keepWeekly: number;
}

/** The policy, or why it cannot be sent. All zero is refused here as the engine refuses it. */
export function parseKeep(f: KeepFields): { keep: Keep; error: null } | { keep: null; error: string } {
  const values = [f.last, f.daily, f.weekly].map((v) => (v.trim() === '' ? 0 : Number(v)));
  if (values.some((n) => !Number.isInteger(n) || n < 0 || n > 100_000))
    return { keep: null, error: 'Each number is a whole number from 0 to 100000.' };
  const [keepLast, keepDaily, keepWeekly] = values as [number, number, number];
  if (keepLast + keepDaily + keepWeekly === 0)
    return {
      keep: null,
      error:
        'With every number at 0 nothing would be kept: keep at least one backup. Prune never removes them all.',
    };
  return { keep: { keepLast, keepDaily, keepWeekly }, error: null };
}

export interface PrunePlan {
  removed: { id: string; when: string; mergedInto: string | null }[];
  /** Kept whatever the policy says, with the VM that still reads them. */
  kept: { id: string; when: string; heldBy: string | null }[];
}

/** What a prune removes and keeps, newest first, each point named by when it was made. */
export function prunePlan(r: BackupPruneResult, backups: BackupListEntry[]): PrunePlan {
  const made = new Map(backups.map((b) => [b.id, b.completedAt]));
  const when = (id: string) => {
    const at = made.get(id);
    return at ? new Date(at).toLocaleString() : id;
  };
  const newestFirst = (ids: string[]) => [...ids].sort().reverse();
  // A point merged into several children (a full two incrementals were built on) names the last.
  const into = new Map(r.merged.map((m) => [m.point, m.into]));
  return {
    removed: newestFirst(r.removed).map((id) => {
      const child = into.get(id);
      return { id, when: when(id), mergedInto: child ? when(child) : null };
    }),
    // An instant restore still reading a point keeps it (and those under it) until it is whole.
    kept: newestFirst(r.kept).map((id) => ({
      id,
      when: when(id),
      heldBy: r.held.find((h) => h.point === id)?.vm ?? null,
    })),
  };
}
