// The snapshot tree as rows with the lines to draw beside them. Pure, so it is easy to test.
// A chain (a snapshot with one child) stays in one column, so a long history does not march off
// to the right; only a branch point indents its children. The VM's current state ("you are
// here") is drawn as the newest child of the snapshot it descends from.
import type { ApiResults } from '../../../../shared/api';

export type SnapshotItem = ApiResults['snapshot.list'][number];

/**
 * What one column left of a row's own column shows: nothing, a line passing by to a later
 * sibling, or the elbow into this row ('tee' when more siblings follow, 'end' for the last).
 */
export type Cell = 'empty' | 'pass' | 'tee' | 'end';

export interface TreeLine {
  /** null for the "you are here" marker. */
  snapshot: SnapshotItem | null;
  cells: Cell[];
  /** The line comes down into this row from the one above (a chain). */
  up: boolean;
  /** The line goes on to the row below (this row has children). */
  down: boolean;
}

/** Snapshots the engine found in the images but did not make: listed, not part of the tree. */
export function isForeign(s: SnapshotItem): boolean {
  return s.id === s.tag;
}

interface Node {
  id: string;
  snapshot: SnapshotItem | null;
}

export function treeLines(list: SnapshotItem[]): TreeLine[] {
  const own = list.filter((s) => !isForeign(s));
  if (own.length === 0) return [];
  const ids = new Set(own.map((s) => s.id));
  const children = new Map<string | null, Node[]>();
  const add = (parent: string | null, n: Node) => children.set(parent, [...(children.get(parent) ?? []), n]);
  for (const s of own) {
    // A parent deleted earlier leaves its children at the top rather than hidden.
    add(s.parent !== null && ids.has(s.parent) ? s.parent : null, { id: s.id, snapshot: s });
  }
  for (const group of children.values())
    group.sort((a, b) => a.snapshot!.createdAt.localeCompare(b.snapshot!.createdAt));
  const current = own.find((s) => s.current);
  add(current?.id ?? null, { id: '', snapshot: null });

  const lines: TreeLine[] = [];
  const seen = new Set<string>();
  const emit = (n: Node, cells: Cell[], rest: Cell[], up: boolean) => {
    const kids = (n.snapshot ? (children.get(n.id) ?? []) : []).filter((k) => !seen.has(k.id));
    kids.forEach((k) => seen.add(k.id)); // a cycle in hand-edited metadata must not hang the UI
    lines.push({ snapshot: n.snapshot, cells, up, down: kids.length > 0 });
    if (kids.length === 1) emit(kids[0]!, rest, rest, true);
    else
      kids.forEach((k, i) => {
        const last = i === kids.length - 1;
        emit(k, [...rest, last ? 'end' : 'tee'], [...rest, last ? 'empty' : 'pass'], false);
      });
  };
  const roots = children.get(null) ?? [];
  roots.forEach((r) => seen.add(r.id));
  for (const r of roots) emit(r, [], [], false);
  return lines;
}

/** How many snapshots were taken from this one directly (they are kept when it is deleted). */
export function childCount(list: SnapshotItem[], id: string): number {
  return list.filter((s) => s.parent === id).length;
}
