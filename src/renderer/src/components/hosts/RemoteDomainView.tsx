// One domain on a libvirt host, opened from its card: the guest's address (from its agent), the
// host's snapshots of it (take, revert), and its screen and serial console in the same noVNC and
// xterm views as a local VM, through a console id the engine hands out (remote.console).
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { RemoteAddress, RemoteDomain } from '../../../../shared/hosts';
import { api } from '../../api/client';
import { transport } from '../../api/transport';
import { SerialSession } from '../../consoles/serial-session';
import { VncSession } from '../../consoles/vnc-session';
import { Observable, type LinkStatus } from '../../consoles/observable';
import { attempt, notify } from '../../store/notices';
import { useObservable } from '../detail/hooks';
import { LinkBadge } from '../detail/StoppedPlaceholder';

type View = 'vnc' | 'serial';

export function RemoteDomainView({
  host,
  domain,
  onChanged,
  onClose,
}: {
  host: string;
  domain: RemoteDomain;
  onChanged: () => Promise<void>;
  onClose: () => void;
}) {
  const running = domain.state === 'running' || domain.state === 'paused';
  const ref = { host, domain: domain.name };
  const [address, setAddress] = useState<RemoteAddress | null>(null);
  const [snapshots, setSnapshots] = useState<string[] | null>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [view, setView] = useState<View>('vnc');
  const [consoleId, setConsoleId] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const loadAddress = async () =>
    setAddress((await attempt('Could not ask for the address', () => api('remote.address', ref))) ?? null);
  const loadSnapshots = async () =>
    setSnapshots(
      (await attempt('Could not list the snapshots', () =>
        api('remote.snapshot', { ...ref, action: 'list' }),
      )) ?? null,
    );
  useEffect(() => {
    heading.current?.focus();
    void loadSnapshots();
    void attempt('Could not open the console', () => api('remote.console', ref)).then((r) =>
      setConsoleId(r?.id ?? null),
    );
    // Once per domain opened.
  }, [host, domain.name]);
  useEffect(() => {
    if (running) void loadAddress();
    // Again when it starts or stops.
  }, [host, domain.name, running]);

  const take = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const list = await attempt(`Could not take a snapshot of ${domain.name}`, () =>
      api('remote.snapshot', { ...ref, action: 'create', snapshot: name.trim() }),
    );
    setBusy(false);
    if (!list) return;
    setSnapshots(list);
    notify('info', 'Snapshot taken', `"${name.trim()}" of ${domain.name} on ${host}.`);
    setName('');
  };

  const revert = async (snapshot: string) => {
    if (!window.confirm(`Revert ${domain.name} on ${host} to "${snapshot}"? What changed since is lost.`))
      return;
    setBusy(true);
    const list = await attempt(`Could not revert ${domain.name}`, () =>
      api('remote.snapshot', { ...ref, action: 'revert', snapshot }),
    );
    setBusy(false);
    if (!list) return;
    notify('info', 'Reverted', `${domain.name} on ${host} is back at "${snapshot}".`);
    await onChanged();
  };

  return (
    <section className="remote-view" aria-labelledby="remote-view-heading" data-testid="remote-view">
      <div className="host-head">
        <h3 id="remote-view-heading" tabIndex={-1} ref={heading}>
          {domain.name} <span className="muted">on {host}</span>
        </h3>
        <button type="button" className="remote-view-close" onClick={onClose} data-testid="remote-view-close">
          Close
        </button>
      </div>
      <p data-testid="remote-address">
        {!running
          ? 'Address: the domain is not running.'
          : address === null
            ? 'Address: asking the guest agent…'
            : address.ipv4 || address.ipv6
              ? `Address: ${[address.ipv4, address.ipv6].filter(Boolean).join(', ')}`
              : 'No address: no guest agent answers in this guest.'}{' '}
        {running && (
          <button type="button" onClick={() => void loadAddress()} data-testid="remote-address-refresh">
            Ask again
          </button>
        )}
      </p>
      <h4>Snapshots on {host}</h4>
      {snapshots === null ? (
        <p className="muted">Loading…</p>
      ) : snapshots.length === 0 ? (
        <p className="muted" data-testid="remote-no-snapshots">
          None yet.
        </p>
      ) : (
        <ul className="remote-snapshots" aria-label={`Snapshots of ${domain.name}`}>
          {snapshots.map((s) => (
            <li key={s} data-testid="remote-snapshot">
              <span>{s}</span>
              <button
                type="button"
                disabled={busy}
                onClick={() => void revert(s)}
                aria-label={`Revert to ${s}`}
                data-testid="remote-snapshot-revert"
              >
                Revert
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="remote-snapshot-form" onSubmit={(e) => void take(e)}>
        <label>
          New snapshot
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            maxLength={200}
            data-testid="remote-snapshot-name"
          />
        </label>
        <button type="submit" disabled={busy || !name.trim()} data-testid="remote-snapshot-take">
          Take snapshot
        </button>
      </form>
      <h4>Console</h4>
      {!running ? (
        <p className="muted" data-testid="remote-console-stopped">
          Start the domain to see its screen and serial console.
        </p>
      ) : consoleId === null ? (
        <p className="muted">Opening…</p>
      ) : (
        <>
          <div className="console-toolbar" role="group" aria-label="Console view">
            {(
              [
                ['vnc', 'Screen'],
                ['serial', 'Serial'],
              ] as [View, string][]
            ).map(([v, label]) => (
              <button
                key={v}
                type="button"
                aria-pressed={view === v}
                onClick={() => setView(v)}
                data-testid={`remote-view-${v}`}
              >
                {label}
              </button>
            ))}
          </div>
          <RemotePane key={view} id={consoleId} kind={view} />
        </>
      )}
    </section>
  );
}

// Stands in for a session's status before its effect made one, so the hook order never changes.
const NO_SESSION = new Observable<LinkStatus>({ state: 'connecting', reason: '' });

/** The domain's screen or serial console: a session of its own, made and closed with the pane. */
function RemotePane({ id, kind }: { id: string; kind: View }) {
  const [session, setSession] = useState<VncSession | SerialSession | null>(null);
  const status = useObservable(session?.status ?? NO_SESSION);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const url = transport.consoleUrl(kind, id);
    const s = kind === 'vnc' ? new VncSession(url) : new SerialSession(url);
    if (ref.current) {
      if (s instanceof VncSession) ref.current.appendChild(s.element);
      else s.attach(ref.current);
    }
    s.connect();
    setSession(s);
    return () => s.dispose();
  }, [id, kind]);
  return (
    <>
      <div className="console-toolbar">
        <LinkBadge status={status} testId={`remote-${kind}-status`} />
        {kind === 'serial' && <span className="muted term-hint">Shift+Tab leaves the terminal</span>}
        {status.state === 'disconnected' && (
          <button type="button" onClick={() => session?.connect()} data-testid={`remote-${kind}-reconnect`}>
            Reconnect
          </button>
        )}
      </div>
      {kind === 'vnc' ? (
        <div className="console-screen remote-screen" data-testid="remote-vnc-screen">
          <div className="console-attach" ref={ref} />
        </div>
      ) : (
        <div className="term-container remote-term" ref={ref} data-testid="remote-serial-terminal" />
      )}
    </>
  );
}
