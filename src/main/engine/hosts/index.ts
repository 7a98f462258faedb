// libvirt hosts (issue 16): a registry of named connections, the domains on each driven through
// virsh, and publishing a Hangar VM there.
import type { RemoteAddress, RemoteDomain, PublishResult, LibvirtHost } from '../../../shared/hosts';
import type { EngineContext } from '../context';
import { Virsh } from '../libvirt/virsh';
import { HostRegistry } from './registry';
import { domainAction, listDomains, remoteAddress } from './remote';
import { publishVm, type PublishOptions } from './publish';

export { HostRegistry } from './registry';
export { parseDomstats, parseDomifaddr } from './remote';

/** The engine's view of the hosts: each call opens virsh against the host's URI. */
export class Hosts {
  readonly registry: HostRegistry;

  constructor(private readonly ctx: EngineContext) {
    this.registry = new HostRegistry(ctx.home);
  }

  virsh(host: string): Virsh {
    return new Virsh({ uri: this.registry.get(host).uri });
  }

  list(): LibvirtHost[] {
    return this.registry.list();
  }

  /** Adds the host after one successful connection, so a typo is found now rather than later. */
  async add(name: string, uri: string): Promise<LibvirtHost & { version: string | null }> {
    const v = await new Virsh({ uri }).version();
    return { ...this.registry.add(name, uri), version: v.library };
  }

  remove(name: string): LibvirtHost {
    return this.registry.remove(name);
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
