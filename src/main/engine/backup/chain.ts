// Whether the next backup can be an incremental on the VM's chain, or must be a new full, and why.
// An incremental is only as good as the dirty bitmap that says what changed since the chain's
// last point, so anything that may have changed the disk behind the bitmap's back, or a bitmap
// QEMU itself distrusts, means a new full; the reason is kept in the manifest and returned.

/** One persistent dirty bitmap as QEMU reports it (query-named-block-nodes, dirty-bitmaps). */
export interface BitmapInfo {
  name: string;
  recording: boolean;
  busy: boolean;
  persistent: boolean;
  /** Set by QEMU when the image was not closed cleanly since the bitmap was stored. */
  inconsistent?: boolean;
  /** Bytes marked dirty. */
  count?: number;
}

export const bitmapName = (chainId: string): string => `hangar-${chainId}`;
/** Taken at an incremental's point in time and merged into the chain's bitmap once it is published. */
export const nextBitmapName = (chainId: string): string => `hangar-${chainId}-n`;
export const isOurBitmap = (name: string): boolean => /^hangar-[0-9a-f]{12}(-n)?$/.test(name);

export interface ChainTail {
  id: string;
  chainId: string;
  disks: { id: string; virtualSize: number }[];
}

export interface ChainInput {
  /** The newest backup of this VM in this repository, or null. */
  tail: ChainTail | null;
  /** The disks that are backed up now, with their current virtual sizes. */
  disks: { id: string; virtualSize: number }[];
  forceFull: boolean;
  /** Bitmaps per disk node, as the QEMU holding the disks reports them. */
  bitmaps: Map<string, BitmapInfo[]>;
}

export type ChainDecision =
  { kind: 'incremental'; chainId: string; parent: string } | { kind: 'full'; reason: string };

export function decideChain(i: ChainInput): ChainDecision {
  const full = (reason: string): ChainDecision => ({ kind: 'full', reason });
  const t = i.tail;
  if (!t) return full('first backup of this VM in this repository');
  if (i.forceFull) return full('a full backup was asked for');
  const was = t.disks.map((d) => `${d.id}:${d.virtualSize}`).join(',');
  const now = i.disks.map((d) => `${d.id}:${d.virtualSize}`).join(',');
  if (was !== now)
    return full(`the disks changed since backup ${t.id} (${was || 'none'} -> ${now || 'none'})`);
  // A revert rewrites the disk without the bitmap seeing it, but QEMU refuses to apply a
  // snapshot to an image with dirty bitmaps, so every revert removes the chain's bitmaps first
  // (hooks.ts) and is caught below as a missing bitmap. Taking a snapshot changes no data and
  // keeps the chain going.
  const name = bitmapName(t.chainId);
  for (const d of i.disks) {
    const b = (i.bitmaps.get(d.id) ?? []).find((x) => x.name === name);
    if (!b)
      return full(
        `the chain's bitmap ${name} is missing on ${d.id} (QEMU was killed, or the disk was replaced)`,
      );
    if (b.inconsistent)
      return full(
        `the chain's bitmap ${name} on ${d.id} is inconsistent (QEMU did not close the image cleanly)`,
      );
    if (b.busy) return full(`the chain's bitmap ${name} on ${d.id} is busy (another block job uses it)`);
    if (!b.recording) return full(`the chain's bitmap ${name} on ${d.id} is disabled`);
    if (!b.persistent) return full(`the chain's bitmap ${name} on ${d.id} is not persistent`);
  }
  return { kind: 'incremental', chainId: t.chainId, parent: t.id };
}

/** Bitmaps of ours that belong to no chain this backup keeps: removed before a new full. */
export function staleBitmaps(bitmaps: BitmapInfo[], keepChain: string | null): string[] {
  const keep = keepChain ? bitmapName(keepChain) : null;
  return bitmaps.filter((b) => isOurBitmap(b.name) && b.name !== keep).map((b) => b.name);
}
