// Step 6: user-mode networking (NAT) and the host ports forwarded into the guest.
import { newForwardRow, type ForwardRow } from './form';
import { described, FieldError, type StepProps } from './Field';

export function StepNetwork({ form, update, error, touch }: StepProps) {
  const edit = (id: number, patch: Partial<ForwardRow>) =>
    update((f) => ({ ...f, forwards: f.forwards.map((r) => (r.id === id ? { ...r, ...patch } : r)) }));
  const remove = (id: number) => update((f) => ({ ...f, forwards: f.forwards.filter((r) => r.id !== id) }));

  return (
    <>
      <div className="wiz-field">
        <label className="wiz-check">
          <input
            type="checkbox"
            checked={form.nat}
            onChange={(e) => update((f) => ({ ...f, nat: e.target.checked }))}
            data-testid="wiz-nat"
          />
          <span>Network (NAT)</span>
        </label>
        <span className="wiz-hint muted">
          The guest reaches the internet through the host; the host reaches the guest only through the
          forwarded ports below.
        </span>
      </div>
      {form.nat && (
        <fieldset className="wiz-forwards">
          <legend>Port forwards</legend>
          {form.forwards.length === 0 && (
            <p className="muted">None: add one to reach a service in the guest.</p>
          )}
          {form.forwards.length > 0 && (
            <table className="wiz-table">
              <thead>
                <tr>
                  <th scope="col">Protocol</th>
                  <th scope="col">Host port (127.0.0.1)</th>
                  <th scope="col">Guest port</th>
                  <th scope="col">
                    <span className="wiz-sr">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {form.forwards.map((r, i) => {
                  const hostKey = `forward.${r.id}.host`;
                  const guestKey = `forward.${r.id}.guest`;
                  return (
                    <tr key={r.id}>
                      <td>
                        <select
                          value={r.protocol}
                          onChange={(e) => edit(r.id, { protocol: e.target.value as 'tcp' | 'udp' })}
                          aria-label={`Protocol of forward ${i + 1}`}
                          data-testid="wiz-forward-proto"
                        >
                          <option value="tcp">TCP</option>
                          <option value="udp">UDP</option>
                        </select>
                      </td>
                      <td>
                        <PortInput
                          value={r.hostPort}
                          label={`Host port of forward ${i + 1}`}
                          testId="wiz-forward-host"
                          field={hostKey}
                          error={error(hostKey)}
                          touch={touch}
                          onChange={(v) => edit(r.id, { hostPort: v })}
                        />
                      </td>
                      <td>
                        <PortInput
                          value={r.guestPort}
                          label={`Guest port of forward ${i + 1}`}
                          testId="wiz-forward-guest"
                          field={guestKey}
                          error={error(guestKey)}
                          touch={touch}
                          onChange={(v) => edit(r.id, { guestPort: v })}
                        />
                      </td>
                      <td>
                        <button
                          type="button"
                          onClick={() => remove(r.id)}
                          aria-label={`Remove forward ${i + 1}`}
                          data-testid="wiz-remove-forward"
                        >
                          ×
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          <button
            type="button"
            onClick={() => update((f) => ({ ...f, forwards: [...f.forwards, newForwardRow()] }))}
            disabled={form.forwards.length >= 64}
            data-testid="wiz-add-forward"
          >
            Add port forward
          </button>
        </fieldset>
      )}
    </>
  );
}

/** One port of a forward: the same input, checks and message for the host and the guest side. */
function PortInput(p: {
  value: string;
  label: string;
  testId: string;
  field: string;
  error: string | undefined;
  touch: (field: string) => void;
  onChange: (value: string) => void;
}) {
  return (
    <>
      <input
        type="number"
        min={1}
        max={65535}
        value={p.value}
        onChange={(e) => {
          p.touch(p.field);
          p.onChange(e.target.value);
        }}
        onBlur={() => p.touch(p.field)}
        aria-label={p.label}
        data-testid={p.testId}
        {...described(p.field, p.error)}
      />
      <FieldError field={p.field} error={p.error} />
    </>
  );
}
