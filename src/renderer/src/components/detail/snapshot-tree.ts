// Snapshots as an indented tree by parent, oldest first among siblings. Pure, so it is easy to test.
import type { ApiResults } from '../../../../shared/api';

export type SnapshotItem = ApiResults['snapshot.list'][number];

export interface TreeRow {
  snapshot: SnapshotItem;
  depth: number;
}

export function snapshotRows(list: SnapshotItem[]): TreeRow[] {
  const ids = new Set(list.map((s) => s.id));
  const children = new Map<string | null, SnapshotItem[]>();
  for (const s of list) {
    // A parent deleted earlier leaves its children at the top rather than hidden.
    const parent = s.parent !== null && ids.has(s.parent) ? s.parent : null;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  for (const group of children.values()) group.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const rows: TreeRow[] = [];
  const seen = new Set<string>();
  const walk = (parent: string | null, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      if (seen.has(s.id)) continue; // a cycle in hand-edited metadata must not hang the UI
      seen.add(s.id);
      rows.push({ snapshot: s, depth });
      walk(s.id, depth + 1);
    }
  };
  walk(null, 0);
  return rows;
}
