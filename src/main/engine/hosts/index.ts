// libvirt hosts (issue 16): a registry of named connections, the domains on each driven through
// virsh, and publishing a Hangar VM there.
import type { RemoteAddress, RemoteDomain, PublishResult, LibvirtHost } from '../../../shared/hosts';
import type { EngineContext } from '../context';
import { Virsh } from '../libvirt/virsh';
import { HostRegistry } from './registry';
import { SshMux, sshDir } from './ssh';
import { RemoteConsoles, type RemoteConsoleKind } from './console';
import { perEngine } from '../per-engine';
import type { ConsoleStream } from './console-stream';
import { domainAction, listDomains, remoteAddress } from './remote';
import { publishVm, type PublishOptions } from './publish';

export { HostRegistry } from './registry';
export { parseDomstats, parseDomifaddr } from './remote';

/** The engine's view of the hosts: each call opens virsh against the host's URI. */
export class Hosts {
  readonly registry: HostRegistry;

  readonly ssh: SshMux;
  private readonly consoles: RemoteConsoles;

  constructor(private readonly ctx: EngineContext) {
    this.registry = new HostRegistry(ctx.home);
    this.ssh = new SshMux(sshDir(ctx.home, ctx.env));
    this.consoles = new RemoteConsoles((host) => this.virsh(host), this.ssh);
  }

  virsh(host: string): Virsh {
    return this.virshFor(this.registry.get(host).uri);
  }

  /** virsh for a URI, its SSH riding the host's shared connection. */
  virshFor(uri: string): Virsh {
    return new Virsh({ uri, connect: this.ssh.connectUri(uri) });
  }

  list(): LibvirtHost[] {
    return this.registry.list();
  }

  /** Adds the host after one successful connection, so a typo is found now rather than later. */
  async add(name: string, uri: string): Promise<LibvirtHost & { version: string | null }> {
    const v = await this.virshFor(uri).version();
    return { ...this.registry.add(name, uri), version: v.library };
  }

  remove(name: string): LibvirtHost {
    const host = this.registry.remove(name);
    this.consoles.forget(name);
    return host;
  }

  /** A console id for the domain (console.ts); the host must be known, the domain is checked at connect. */
  consoleTicket(host: string, domain: string): string {
    this.registry.get(host);
    return this.consoles.ticket(host, domain);
  }

  /** The connecting console stream for a ticket, or null when the id is no ticket. */
  openConsole(id: string, kind: RemoteConsoleKind): ConsoleStream | null {
    return this.consoles.open(id, kind);
  }

  close(): void {
    void this.ssh.closeAll();
  }

  domains(host: string): Promise<RemoteDomain[]> {
    return listDomains(this.virsh(host));
  }

  action(host: string, domain: string, action: 'start' | 'shutdown' | 'destroy'): Promise<RemoteDomain> {
    return domainAction(this.virsh(host), domain, action);
  }

  address(host: string, domain: string): Promise<RemoteAddress> {
    return remoteAddress(this.virsh(host), domain);
  }

  async snapshot(
    host: string,
    domain: string,
    action: 'create' | 'list' | 'revert',
    snapshot?: string,
  ): Promise<string[]> {
    const virsh = this.virsh(host);
    if (action === 'create') await virsh.snapshotCreate(domain, snapshot!);
    if (action === 'revert') await virsh.snapshotRevert(domain, snapshot!);
    return virsh.snapshotList(domain);
  }

  publish(vm: string, host: string, opts: PublishOptions): Promise<PublishResult> {
    return publishVm(this.ctx, this.virsh(host), host, vm, opts);
  }
}

/** One Hosts per engine: its console tickets and shared SSH connections live as long as it does. */
export const hostsOf = perEngine((engine) => new Hosts(engine));
