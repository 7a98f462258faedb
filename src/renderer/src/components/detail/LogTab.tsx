// The Log tab: what happened to this VM (state changes and operations, with times and errors),
// newest first, refreshed when its state or operation changes; QEMU's own log (with the command
// line) behind a toggle.
import { useCallback, useEffect, useState } from 'react';
import type { JournalEntry } from '../../../../shared/journal';
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { errorMessage } from '../../store/notices';
import { QemuLog } from './QemuLog';

export function LogTab({ vm }: { vm: VmSummary }) {
  const [entries, setEntries] = useState<JournalEntry[] | null>(null);
  const [error, setError] = useState('');
  const [raw, setRaw] = useState(false);
  const load = useCallback(
    () =>
      api('vm.history', { vm: vm.id, limit: 500 }).then(
        (e) => (setEntries(e), setError('')),
        (err: unknown) => setError(errorMessage(err)),
      ),
    [vm.id],
  );
  // A new state or the end of an operation is a new entry.
  useEffect(() => void load(), [load, vm.state, vm.busy]);

  return (
    <div className="log-tab">
      <div className="console-toolbar">
        <span className="muted">History of {vm.name}, newest first</span>
        <span className="console-spacer" />
        <label className="detail-check">
          <input
            type="checkbox"
            data-testid="log-show-qemu"
            checked={raw}
            onChange={(e) => setRaw(e.target.checked)}
          />{' '}
          Show QEMU log and command line
        </label>
      </div>
      {raw && <QemuLog id={vm.id} />}
      {error && <p className="field-error">{error}</p>}
      {entries === null ? (
        <p className="muted">Loading…</p>
      ) : entries.length === 0 ? (
        <p className="muted" data-testid="history-empty">
          Nothing has happened to this VM yet.
        </p>
      ) : (
        <ol className="history" data-testid="history">
          {entries.map((e, i) => (
            <li key={i} className={e.ok ? '' : 'history-failed'} data-testid="history-entry">
              <time dateTime={e.at}>{new Date(e.at).toLocaleString()}</time>{' '}
              <span className="history-what">
                {e.kind === 'state' ? `→ ${e.what}` : e.what}
                {e.ok ? '' : ' failed'}
              </span>
              {e.ms !== undefined && <span className="muted"> ({e.ms} ms)</span>}
              {e.detail && <span className="history-detail">: {e.detail}</span>}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
