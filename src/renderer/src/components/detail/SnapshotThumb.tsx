// The screen as it was when a snapshot was taken (only snapshots of a running VM have one),
// fetched when its row is shown. Without one, an empty box keeps the rows aligned.
import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import type { SnapshotItem } from './snapshot-tree';

export function SnapshotThumb({ vmId, snapshot }: { vmId: string; snapshot: SnapshotItem }) {
  const [png, setPng] = useState<string | null>(null);
  useEffect(() => {
    if (!snapshot.thumbnail) return;
    let current = true;
    api('snapshot.thumbnail', { vm: vmId, snapshot: snapshot.id })
      .then((r) => current && setPng(r.png))
      .catch(() => undefined);
    return () => {
      current = false;
    };
  }, [vmId, snapshot.id, snapshot.thumbnail]);
  return png ? (
    <img
      className="snap-thumb"
      src={`data:image/png;base64,${png}`}
      alt={`Screen when ${snapshot.name} was taken`}
      data-testid="snapshot-thumbnail"
    />
  ) : (
    <span className="snap-thumb snap-thumb-none" aria-hidden="true" />
  );
}

/** The RAM a snapshot saved, for its row: "RAM 412 MiB". */
/** Sizes in the row: KiB below a MiB (a snapshot of an idle disk holds only its tables). */
export function sizeLabel(bytes: number): string {
  const mib = bytes / 2 ** 20;
  if (mib >= 1024) return `${+(mib / 1024).toFixed(1)} GiB`;
  if (mib >= 1) return `${Math.round(mib)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

export function ramLabel(bytes: number): string {
  return `RAM ${sizeLabel(Math.max(bytes, 2 ** 20))}`;
}
