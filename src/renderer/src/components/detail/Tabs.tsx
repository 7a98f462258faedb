// The tab strip: a WAI-ARIA tablist with arrow-key movement; the route (URL hash) is the selection.
import { useRef, type KeyboardEvent } from 'react';
import { navigate, TABS, type Tab } from '../../store/ui';

export const TAB_LABELS: Record<Tab, string> = {
  console: 'Console',
  serial: 'Serial',
  monitor: 'Monitor',
  snapshots: 'Snapshots',
  rollback: 'Rollback',
  backups: 'Backups',
  performance: 'Performance',
  settings: 'Settings',
  log: 'Log',
};

export function Tabs({ id, tab }: { id: string; tab: Tab }) {
  const refs = useRef<Partial<Record<Tab, HTMLButtonElement | null>>>({});
  const go = (t: Tab) => {
    navigate({ kind: 'vm', id, tab: t });
    refs.current[t]?.focus();
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const i = TABS.indexOf(tab);
    const to =
      e.key === 'ArrowRight'
        ? TABS[(i + 1) % TABS.length]
        : e.key === 'ArrowLeft'
          ? TABS[(i - 1 + TABS.length) % TABS.length]
          : e.key === 'Home'
            ? TABS[0]
            : e.key === 'End'
              ? TABS[TABS.length - 1]
              : undefined;
    if (!to) return;
    e.preventDefault();
    go(to);
  };
  return (
    <div className="detail-tabs" role="tablist" aria-label="VM views" onKeyDown={onKeyDown}>
      {TABS.map((t) => (
        <button
          key={t}
          ref={(el) => {
            refs.current[t] = el;
          }}
          type="button"
          role="tab"
          id={`tab-${t}`}
          aria-selected={t === tab}
          aria-controls="detail-panel"
          tabIndex={t === tab ? 0 : -1}
          className="detail-tab"
          data-testid={`tab-${t}`}
          onClick={() => go(t)}
        >
          {TAB_LABELS[t]}
        </button>
      ))}
    </div>
  );
}
