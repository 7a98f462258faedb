// One libvirt host: its domains as cards (state, host badge, start / shut down / force off), a
// refresh, a domain's own view (RemoteDomainView), a Publish dialog, and Remove, which forgets the connection and touches nothing there.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LibvirtHost, RemoteDomain } from '../../../../shared/hosts';
import { api } from '../../api/client';
import { attempt, notify } from '../../store/notices';
import { PublishDialog } from './PublishDialog';
import { RemoteDomainView } from './RemoteDomainView';

type Action = 'start' | 'shutdown' | 'destroy';
const ACTIONS_ON: [Action, string][] = [
  ['shutdown', 'Shut down'],
  ['destroy', 'Force off'],
];
const ACTIONS_OFF: [Action, string][] = [['start', 'Start']];
const RUNNING = new Set(['running', 'paused', 'blocked', 'in shutdown', 'pmsuspended']);
const badge = (state: string) =>
  state === 'running'
    ? 'running'
    : state === 'shut off'
      ? 'stopped'
      : state === 'crashed'
        ? 'crashed'
        : 'paused';

export function HostPanel({ host, onRemoved }: { host: LibvirtHost; onRemoved: () => Promise<void> }) {
  const [domains, setDomains] = useState<RemoteDomain[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [working, setWorking] = useState<string | null>(null);
  const [publishing, setPublishing] = useState(false);
  /** The domain whose view is open below the cards. */
  const [opened, setOpened] = useState<string | null>(null);
  const openButtons = useRef(new Map<string, HTMLButtonElement | null>());
  const publishButton = useRef<HTMLButtonElement>(null);

  const load = useCallback(async () => {
    try {
      setDomains(await api('remote.domains', { host: host.name }));
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  }, [host.name]);
  useEffect(() => void load(), [load]);

  const act = async (domain: string, action: Action) => {
    setWorking(`${domain}/${action}`);
    await attempt(`Could not ${action === 'destroy' ? 'force off' : action} ${domain}`, () =>
      api('remote.action', { host: host.name, domain, action }),
    );
    setWorking(null);
    await load();
  };

  const remove = async () => {
    if (
      !window.confirm(
        `Forget the host "${host.name}"? Its domains keep running there; only Hangar forgets it.`,
      )
    )
      return;
    const r = await attempt('Could not remove the host', () => api('remote.removeHost', { host: host.name }));
    if (!r) return;
    notify('info', 'Host removed', `${r.name} is forgotten; nothing on it changed.`);
    await onRemoved();
  };

  const headingId = `host-${host.name}`;
  return (
    <section
      className="host-panel"
      aria-labelledby={headingId}
      data-testid="host-panel"
      data-host={host.name}
    >
      <div className="host-head">
        <h2 id={headingId}>{host.name}</h2>
        <code className="muted">{host.uri}</code>
        <div className="rb-actions">
          <button
            type="button"
            className="primary"
            ref={publishButton}
            onClick={() => setPublishing(true)}
            data-testid="host-publish"
          >
            Publish a VM…
          </button>
          <button type="button" onClick={() => void load()} data-testid="host-refresh">
            Refresh
          </button>
          <button type="button" onClick={() => void remove()} data-testid="host-remove">
            Remove
          </button>
        </div>
      </div>
      {error ? (
        <p className="error" role="alert" data-testid="host-error">
          {error}
        </p>
      ) : domains === null ? (
        <p className="muted">Loading…</p>
      ) : domains.length === 0 ? (
        <p className="muted" data-testid="host-no-domains">
          No domains on {host.name} yet.
        </p>
      ) : (
        <ul className="remote-domains" aria-label={`Domains on ${host.name}`}>
          {domains.map((d) => {
            const on = RUNNING.has(d.state);
            return (
              <li key={d.name} className="remote-domain" data-testid="remote-domain" data-name={d.name}>
                <span className="remote-name">{d.name}</span>
                <span className="badge badge-host" title={host.uri}>
                  {host.name}
                </span>
                <span className={`badge badge-${badge(d.state)}`} role="status" data-testid="remote-state">
                  {d.state}
                </span>
                <span className="rb-actions">
                  <button
                    type="button"
                    aria-expanded={opened === d.name}
                    aria-label={`Open ${d.name} on ${host.name}: address, snapshots, console`}
                    ref={(el) => void openButtons.current.set(d.name, el)}
                    onClick={() => setOpened(opened === d.name ? null : d.name)}
                    data-testid="remote-open"
                  >
                    {opened === d.name ? 'Hide' : 'Open'}
                  </button>
                  {(on ? ACTIONS_ON : ACTIONS_OFF).map(([action, label]) => (
                    <button
                      key={action}
                      type="button"
                      disabled={working !== null}
                      onClick={() => void act(d.name, action)}
                      aria-label={`${label} ${d.name} on ${host.name}`}
                      data-testid={`remote-${action}`}
                    >
                      {label}
                    </button>
                  ))}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {opened !== null && domains?.some((d) => d.name === opened) && (
        <RemoteDomainView
          key={opened}
          host={host.name}
          domain={domains.find((d) => d.name === opened)!}
          onChanged={load}
          onClose={() => {
            const name = opened;
            setOpened(null);
            requestAnimationFrame(() => openButtons.current.get(name)?.focus());
          }}
        />
      )}
      {publishing && (
        <PublishDialog
          host={host.name}
          onClose={() => {
            setPublishing(false);
            requestAnimationFrame(() => publishButton.current?.focus());
          }}
          onPublished={load}
        />
      )}
    </section>
  );
}
