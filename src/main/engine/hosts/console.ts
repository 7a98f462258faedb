// The consoles of domains on libvirt hosts, through the same WebSocket bridge (and so the same
// noVNC and xterm views) as Hangar's own VMs. The page first asks for a ticket for a host's domain
// (remote.console), then opens console/<kind>/<ticket> like a VM's console.
//   serial: `virsh console`, run under util-linux's `script` because virsh insists on a terminal;
//           libvirt carries the bytes over its own connection, so this works for any URI.
//   vnc:    the domain's VNC server as `virsh domdisplay` names it: a UNIX socket or a port on the
//           host's loopback, reached directly on this machine or through the host's shared SSH
//           connection (ssh.ts) on a remote one.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { HangarError } from '../../../shared/errors';
import { shellWord } from '../shell-word';
import type { Virsh } from '../libvirt/virsh';
import { newVmId } from '../config/store';
import { ConsoleStream } from './console-stream';
import { parseSshUri, type SshMux } from './ssh';

export type RemoteConsoleKind = 'vnc' | 'serial';

const MAX_TICKETS = 1000;

/** Where `virsh domdisplay --type vnc` says the screen is. */
export type VncEndpoint = { socket: string } | { host: string; port: number };

/** Parses domdisplay's `vnc+unix:///path` or `vnc://HOST:DISPLAY` (port 5900 + display). */
export function parseDomdisplay(out: string): VncEndpoint {
  const line = out.trim().split('\n')[0] ?? '';
  // The path is the rest of the line: libvirt names it after the domain, spaces and all.
  const unix = /^vnc\+unix:\/\/(\/.+)$/.exec(line.trimEnd());
  if (unix) return { socket: uriDecoded(unix[1]!) };
  const tcp = /^vnc:\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d+)/.exec(line);
  if (tcp) return { host: tcp[1]!.replace(/^\[(.*)\]$/, '$1'), port: 5900 + Number(tcp[2]) };
  throw new HangarError(
    'UNSUPPORTED',
    `The domain has no VNC display Hangar can show (virsh domdisplay said "${line.slice(0, 200)}").`,
  );
}

function uriDecoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a bare % that was never an escape
  }
}

/** A URI whose libvirt is on this machine (its sockets and loopback are ours). */
function isLocal(uri: string): boolean {
  return /^qemu(\+unix)?:\/\/\//.test(uri);
}

export class RemoteConsoles {
  /** ticket -> host and domain; one ticket per pair, kept for the engine's life (reconnects reuse it). */
  private readonly tickets = new Map<string, { host: string; domain: string }>();
  /** [host, domain] as JSON -> its ticket. */
  private readonly ids = new Map<string, string>();

  constructor(
    private readonly virshOf: (host: string) => Virsh,
    private readonly ssh: SshMux,
  ) {}

  /** A console id for a host's domain, shaped like a VM id so the console route takes it. */
  ticket(host: string, domain: string): string {
    const key = JSON.stringify([host, domain]);
    const known = this.ids.get(key);
    if (known) return known;
    // Bounded: a page may ask for any number of names; the oldest tickets go first.
    if (this.tickets.size >= MAX_TICKETS) {
      const [oldest, t] = this.tickets.entries().next().value as [string, { host: string; domain: string }];
      this.tickets.delete(oldest);
      this.ids.delete(JSON.stringify([t.host, t.domain]));
    }
    const id = newVmId();
    this.tickets.set(id, { host, domain });
    this.ids.set(key, id);
    return id;
  }

  /** Forgets a removed host's tickets. */
  forget(host: string): void {
    for (const [id, t] of this.tickets)
      if (t.host === host) {
        this.tickets.delete(id);
        this.ids.delete(JSON.stringify([t.host, t.domain]));
      }
  }

  /** The console stream for a ticket (connecting), or null for an id that is no ticket. */
  open(id: string, kind: RemoteConsoleKind): ConsoleStream | null {
    const t = this.tickets.get(id);
    if (!t) return null;
    const stream = new ConsoleStream();
    let virsh: Virsh;
    try {
      virsh = this.virshOf(t.host);
    } catch (err) {
      stream.fail(err as Error);
      return stream;
    }
    if (kind === 'serial') this.serial(virsh, t.domain, stream);
    else this.vnc(virsh, t.domain, stream).catch((err: Error) => stream.fail(err));
    return stream;
  }

  private serial(virsh: Virsh, domain: string, stream: ConsoleStream): void {
    // --force takes the console over from a session left behind (a closed tab's, say).
    const command = ['virsh', '-q', '-c', virsh.connect, 'console', '--force', '--', domain]
      .map(shellWord)
      .join(' ');
    const child = spawn('script', ['-q', '-f', '-e', '-c', command, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { ...process.env, SHELL: '/bin/sh', LC_ALL: 'C', TERM: 'xterm-256color' },
      // Its own process group, so the virsh under script goes too.
      detached: true,
    });
    stream.onCleanup(() => {
      if (child.exitCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    });
    child.on('error', (err) =>
      stream.fail(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new HangarError(
              'UNSUPPORTED',
              "util-linux's script was not found: sudo apt-get install bsdutils.",
            )
          : err,
      ),
    );
    child.on('spawn', () => stream.use(child.stdout!, child.stdin!));
  }

  private async vnc(virsh: Virsh, domain: string, stream: ConsoleStream): Promise<void> {
    const at = parseDomdisplay(await virsh.run(['domdisplay', '--type', 'vnc', '--', domain], 30_000));
    if (stream.destroyed) return;
    if (isLocal(virsh.uri)) {
      const sock = 'socket' in at ? connect(at.socket) : connect(at.port, at.host);
      stream.use(sock, sock);
      return;
    }
    if (!parseSshUri(virsh.uri))
      throw new HangarError(
        'UNSUPPORTED',
        `The screen of a domain on ${virsh.uri} can only be reached over SSH: add the host as qemu+ssh://.`,
      );
    const remote =
      'socket' in at ? at.socket : `${at.host.includes(':') ? `[${at.host}]` : at.host}:${at.port}`;
    const fwd = await this.ssh.forward(virsh.uri, remote);
    stream.onCleanup(fwd.cancel);
    const sock = connect(fwd.local);
    // The listener is needed only until this one connection is taken up: the first byte (VNC's
    // server speaks first) says the master accepted it; 'connect' would be too early.
    sock.once('data', fwd.cancel);
    stream.use(sock, sock);
  }
}
