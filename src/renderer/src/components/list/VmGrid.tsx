// The cards as a virtualized grid: only the rows in (or near) view are in the DOM, so a thousand
// VMs scroll as smoothly as ten. Cards have a fixed height (see .card in app.css), which keeps
// row offsets exact without measuring each row.
import { useLayoutEffect, useRef, useState, type RefObject } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { VmSummary } from '../../../../shared/api-types';
import { VmCard } from './VmCard';

// Keep in step with .card { height } and .list-row { gap } in app.css.
const CARD_HEIGHT = 320;
const GAP = 16;
const MIN_CARD_WIDTH = 280;

/** How many cards fit across, following the scroll area's width. */
function useColumns(ref: RefObject<HTMLElement | null>): number {
  const [columns, setColumns] = useState(1);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const fit = () => {
      const width = el.clientWidth;
      setColumns(Math.max(1, Math.floor((width + GAP) / (MIN_CARD_WIDTH + GAP))));
    };
    fit();
    const ro = new ResizeObserver(fit);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);
  return columns;
}

interface Props {
  vms: VmSummary[];
  accel: string | null;
  /** Changes when the filters or the sort change: the grid then starts again at the top. */
  viewKey: string;
}

export function VmGrid({ vms, accel, viewKey }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
  }, [viewKey]);
  const columns = useColumns(scroller);
  const rows = Math.ceil(vms.length / columns);
  const virtualizer = useVirtualizer({
    count: rows,
    getScrollElement: () => scroller.current,
    estimateSize: () => CARD_HEIGHT + GAP,
    overscan: 2,
  });

  return (
    <div ref={scroller} className="list-scroll" data-testid="vm-grid">
      <div className="list-space" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((row) => (
          <div
            key={row.key}
            className="list-row"
            style={{
              transform: `translateY(${row.start}px)`,
              gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))`,
            }}
          >
            {vms.slice(row.index * columns, row.index * columns + columns).map((vm) => (
              <VmCard key={vm.id} vm={vm} accel={accel} />
            ))}
          </div>
        ))}
      </div>
    </div>
  );
}
