// What Hangar does with the domains of a libvirt host: list them with their state, start, shut
// down, power off, snapshot, and ask the guest agent for the address. Every call is one virsh
// child process with an argv array (virsh.ts); names are checked by the API before they get here.
import { HangarError } from '../../../shared/errors';
import type { RemoteAddress, RemoteDomain, RemoteState } from '../../../shared/hosts';
import type { Virsh } from '../libvirt/virsh';

// virDomainState, in order: what `virsh domstats --state` prints as state.state=N.
const STATES: RemoteState[] = [
  'no state',
  'running',
  'blocked',
  'paused',
  'in shutdown',
  'shut off',
  'crashed',
  'pmsuspended',
];

/** Parses `virsh domstats --state`: one "Domain: 'NAME'" block per domain, then its fields. */
export function parseDomstats(out: string): RemoteDomain[] {
  const domains: RemoteDomain[] = [];
  for (const line of out.split('\n')) {
    const head = /^Domain: '(.*)'\s*$/.exec(line);
    if (head) {
      domains.push({ name: head[1]!, state: 'no state' });
      continue;
    }
    const state = /^\s+state\.state=(\d+)\s*$/.exec(line);
    const last = domains[domains.length - 1];
    if (state && last) last.state = STATES[Number(state[1])] ?? 'no state';
  }
  return domains;
}

/** Parses `virsh domifaddr`: the first global address of each family, loopback and link-local left out. */
export function parseDomifaddr(out: string): { ipv4: string | null; ipv6: string | null } {
  let ipv4: string | null = null;
  let ipv6: string | null = null;
  for (const m of out.matchAll(/\b(ipv4|ipv6)\s+([0-9a-fA-F.:]+)\/\d+/g)) {
    const [, family, address] = m as unknown as [string, string, string];
    if (family === 'ipv4' && !ipv4 && !address.startsWith('127.')) ipv4 = address;
    if (family === 'ipv6' && !ipv6 && address !== '::1' && !/^fe80:/i.test(address)) ipv6 = address;
  }
  return { ipv4, ipv6 };
}

export async function listDomains(virsh: Virsh): Promise<RemoteDomain[]> {
  const domains = parseDomstats(await virsh.run(['domstats', '--state']));
  return domains.sort((a, b) => a.name.localeCompare(b.name));
}

/** The state after the action, as virsh domstate says it. */
export async function domainAction(
  virsh: Virsh,
  domain: string,
  action: 'start' | 'shutdown' | 'destroy',
): Promise<RemoteDomain> {
  const before = await virsh.domstate(domain);
  const running = before !== 'shut off' && before !== 'crashed';
  // virsh's own message for these ("domain is already active") reads like a failure; say it plainly.
  if (action === 'start' && running)
    throw new HangarError('CONFLICT', `"${domain}" on ${virsh.uri} is ${before} already.`);
  if (action !== 'start' && !running)
    throw new HangarError('CONFLICT', `"${domain}" on ${virsh.uri} is ${before}; there is nothing to stop.`);
  await virsh.run([action, '--', domain]);
  return { name: domain, state: (await virsh.domstate(domain)) as RemoteState };
}

export async function remoteAddress(virsh: Virsh, domain: string): Promise<RemoteAddress> {
  try {
    return {
      domain,
      ...parseDomifaddr(await virsh.run(['domifaddr', '--source', 'agent', '--', domain], 30_000)),
    };
  } catch (err) {
    // No agent in the guest (or not yet): an address unknown, not a failure of the host.
    // Only virsh's own words about the agent (the message also holds the URI, which may say anything).
    const said =
      err instanceof HangarError && err.code === 'QEMU_FAILED' ? err.message.split(' failed: ')[1] : '';
    if (said && /guest agent|agent is not|agent not/i.test(said)) return { domain, ipv4: null, ipv6: null };
    throw err;
  }
}
