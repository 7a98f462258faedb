// How to reach a running guest from this computer, from its port forwards: an ssh command for
// port 22, a web address for the usual web ports, the plain host port otherwise. Forwards bound
// to 0.0.0.0 are reached the same way from here; "localhost" is what the user types.
import type { PortForward } from '../../../../shared/vm';

export interface Access {
  kind: 'ssh' | 'web' | 'port';
  /** What is shown and copied: the command, the address, or host port -> guest port. */
  text: string;
  /** For web ports: the address to open. */
  href?: string;
}

const HTTPS = new Set([443, 8443]);
const HTTP = new Set([80, 3000, 4000, 5000, 5173, 8000, 8080, 8081, 8888, 9000]);

export function accessFor(forwards: readonly PortForward[], user: string | null): Access[] {
  return forwards.map((f) => {
    if (f.protocol === 'tcp' && f.guestPort === 22) {
      return { kind: 'ssh', text: `ssh -p ${f.hostPort} ${user ? `${user}@` : ''}localhost` };
    }
    if (f.protocol === 'tcp' && (HTTP.has(f.guestPort) || HTTPS.has(f.guestPort))) {
      const href = `${HTTPS.has(f.guestPort) ? 'https' : 'http'}://localhost:${f.hostPort}`;
      return { kind: 'web', text: href, href };
    }
    return { kind: 'port', text: `localhost:${f.hostPort} → ${f.guestPort}/${f.protocol}` };
  });
}

/** "up 5 min", "up 2 h 3 min", "up 3 d 4 h", from when it started running. */
export function uptimeLabel(since: string, now: number): string | null {
  const start = Date.parse(since);
  if (!Number.isFinite(start) || now < start) return null;
  const min = Math.floor((now - start) / 60_000);
  if (min < 1) return 'up less than a minute';
  if (min < 60) return `up ${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `up ${h} h${min % 60 ? ` ${min % 60} min` : ''}`;
  return `up ${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ''}`;
}
