// The home view: a toolbar (new VM, filters, sort) above the VM cards, or a welcome panel when
// there are no VMs yet.
import { useMemo, useState } from 'react';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';
import { useVms } from '../../store/vms';
import { navigate } from '../../store/ui';
import { allTags, STATE_FILTERS, visibleVms, type SortKey, type StateFilter } from './filter';
import { BulkBar } from './BulkBar';
import { ListDialogs } from './ListDialogs';
import { VmGrid } from './VmGrid';
import { useListUi } from './view';

function TagFilter() {
  const tag = useListUi((s) => s.tag ?? '');
  const vms = useVms((s) => s.vms);
  const tags = useMemo(() => allTags(vms), [vms]);
  if (tags.length === 0 && !tag) return null;
  return (
    <label className="list-select">
      <span>Tag</span>
      <select
        value={tag}
        onChange={(e) => useListUi.setState({ tag: e.target.value })}
        data-testid="filter-tag"
      >
        <option value="">All</option>
        {tags.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
    </label>
  );
}

function Toolbar() {
  const { text, state, sort } = useListUi();
  return (
    <div className="list-toolbar" role="search">
      <button
        type="button"
        className="primary"
        onClick={() => navigate({ kind: 'new' })}
        data-testid="new-vm"
      >
        New VM
      </button>
      <input
        type="search"
        className="list-filter"
        value={text}
        onChange={(e) => useListUi.setState({ text: e.target.value })}
        placeholder="Filter by name"
        aria-label="Filter by name"
        data-testid="filter-name"
      />
      <label className="list-select">
        <span>State</span>
        <select
          value={state}
          onChange={(e) => useListUi.setState({ state: e.target.value as StateFilter })}
          data-testid="filter-state"
        >
          {STATE_FILTERS.map((s) => (
            <option key={s} value={s}>
              {s === 'all' ? 'All' : s[0]!.toUpperCase() + s.slice(1)}
            </option>
          ))}
        </select>
      </label>
      <TagFilter />
      <label className="list-select">
        <span>Sort by</span>
        <select
          value={sort}
          onChange={(e) => useListUi.setState({ sort: e.target.value as SortKey })}
          data-testid="sort"
        >
          <option value="name">Name</option>
          <option value="state">State</option>
        </select>
      </label>
    </div>
  );
}

function EmptyState() {
  const [making, setMaking] = useState(false);
  const step = useVms((s) => s.progress.demo?.step ?? null);
  const demo = async () => {
    setMaking(true);
    // The new VM's card replaces this page when it appears; a failure is a notice.
    await attempt('Could not make the demo', () => api('vm.demo', {}));
    setMaking(false);
  };
  return (
    <div className="list-empty" data-testid="empty-state">
      <h2>No virtual machines yet</h2>
      <p className="muted">
        Create one from an installer ISO, an existing disk image, or a kernel. It takes a minute.
      </p>
      <div className="list-empty-actions">
        <button type="button" className="primary" onClick={() => navigate({ kind: 'new' })}>
          Create your first VM
        </button>
        {/* Not disabled while it works (focus would drop to the page); a second click is ignored. */}
        <button
          type="button"
          data-testid="demo-start"
          aria-busy={making || undefined}
          onClick={() => void (making ? undefined : demo())}
        >
          {making ? 'Making the demo…' : 'Try a demo VM'}
        </button>
      </div>
      <p className="muted" aria-live="polite" data-testid="demo-status">
        {making
          ? (step ?? 'starting')
          : 'The demo is a tiny Linux (a Debian kernel and BusyBox) built once from Debian packages, with a shell on its serial console and a web server.'}
      </p>
    </div>
  );
}

export function VmList() {
  const vms = useVms((s) => s.vms);
  const loaded = useVms((s) => s.loaded);
  const accel = useVms((s) => s.host?.accel.toUpperCase() ?? null);
  const text = useListUi((s) => s.text);
  const state = useListUi((s) => s.state);
  const sort = useListUi((s) => s.sort);
  const tag = useListUi((s) => s.tag ?? '');
  const shown = useMemo(() => visibleVms(vms, { text, state, sort, tag }), [vms, text, state, sort, tag]);
  const filtered = text.trim() !== '' || state !== 'all' || tag !== '';

  let body;
  if (!loaded) body = <p className="muted list-note">Loading virtual machines…</p>;
  else if (vms.length === 0) body = <EmptyState />;
  else if (shown.length === 0)
    body = (
      <div className="list-note" data-testid="no-match">
        <p className="muted">No VM matches these filters.</p>
        {filtered && (
          <button type="button" onClick={() => useListUi.setState({ text: '', state: 'all', tag: '' })}>
            Clear filters
          </button>
        )}
      </div>
    );
  else body = <VmGrid vms={shown} accel={accel} viewKey={`${text}\n${state}\n${sort}\n${tag}`} />;

  return (
    <section className="list" data-testid="vm-list" aria-labelledby="list-title">
      <h1 id="list-title" className="page-title" tabIndex={-1}>
        Virtual machines
      </h1>
      <Toolbar />
      {loaded && vms.length > 0 && (
        <p className="list-count muted" aria-live="polite">
          {shown.length === vms.length
            ? `${vms.length} ${vms.length === 1 ? 'VM' : 'VMs'}`
            : `${shown.length} of ${vms.length} VMs`}
        </p>
      )}
      <BulkBar />
      {body}
      <ListDialogs />
    </section>
  );
}
