// Host ports forwarded to the guest (user-mode networking of the VM's first network card).
import { useRef } from 'react';
import type { ForwardRow } from './settings-form';
import { newForwardRow } from './settings-form';

export function PortForwards({
  rows,
  hasNic,
  errors,
  onChange,
}: {
  rows: ForwardRow[];
  hasNic: boolean;
  errors: Record<string, string>;
  onChange: (rows: ForwardRow[]) => void;
}) {
  const addButton = useRef<HTMLButtonElement>(null);
  if (!hasNic) return <p className="muted">This VM has no network card, so no ports can be forwarded.</p>;
  const update = (key: number, patch: Partial<ForwardRow>) =>
    onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const error = (i: number) =>
    ['hostPort', 'guestPort', 'protocol', 'hostAddress']
      .map((f) => errors[`portForwards.${i}.${f}`])
      .find(Boolean) ?? errors[`portForwards.${i}`];

  return (
    <div className="detail-forwards">
      <h3>Port forwards</h3>
      {rows.length === 0 && (
        <p className="muted">None. Add one to reach a guest service from this computer.</p>
      )}
      {rows.map((r, i) => (
        <div key={r.key} className="detail-forward-row" role="group" aria-label={`Forward ${i + 1}`}>
          <select
            aria-label="Protocol"
            value={r.protocol}
            onChange={(e) => update(r.key, { protocol: e.target.value as ForwardRow['protocol'] })}
          >
            <option value="tcp">TCP</option>
            <option value="udp">UDP</option>
          </select>
          <select
            aria-label="Listen on"
            value={r.hostAddress}
            onChange={(e) => update(r.key, { hostAddress: e.target.value as ForwardRow['hostAddress'] })}
          >
            <option value="127.0.0.1">this computer only</option>
            <option value="0.0.0.0">all networks</option>
          </select>
          <input
            aria-label="Host port"
            type="number"
            min={1}
            max={65535}
            placeholder="host port"
            value={r.hostPort}
            onChange={(e) => update(r.key, { hostPort: e.target.value })}
          />
          <span aria-hidden="true">→</span>
          <input
            aria-label="Guest port"
            type="number"
            min={1}
            max={65535}
            placeholder="guest port"
            value={r.guestPort}
            onChange={(e) => update(r.key, { guestPort: e.target.value })}
          />
          <button
            type="button"
            onClick={() => {
              onChange(rows.filter((x) => x.key !== r.key));
              // The row and this button go away: keep the keyboard in the list, on "Add forward".
              addButton.current?.focus();
            }}
            aria-label={`Remove forward ${i + 1}`}
          >
            Remove
          </button>
          {error(i) && <span className="field-error">{error(i)}</span>}
        </div>
      ))}
      <button type="button" ref={addButton} onClick={() => onChange([...rows, newForwardRow()])}>
        Add forward
      </button>
    </div>
  );
}
