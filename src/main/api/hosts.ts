// The libvirt-host methods of the API (engine/hosts): the registry, the domains there, publish.
// Publish progress goes out as `progress` events with the operation `publish` under the VM's id.
import type { z } from 'zod';
import type { ApiParams } from '../../shared/api';
import { HangarError } from '../../shared/errors';
import type { Engine } from '../engine/engine';
import { hostsOf } from '../engine/hosts';

type P<M extends keyof typeof ApiParams> = z.output<(typeof ApiParams)[M]>;

export function hostHandlers(engine: Engine) {
  // Made on first use: the registry reads $HANGAR_HOME, which a dispatcher may not need at all.
  const hosts = () => hostsOf(engine);
  return {
    'remote.hosts': () => hosts().list(),
    'remote.addHost': (p: P<'remote.addHost'>) => hosts().add(p.name, p.uri),
    'remote.removeHost': (p: P<'remote.removeHost'>) => hosts().remove(p.host),
    'remote.domains': (p: P<'remote.domains'>) => hosts().domains(p.host),
    'remote.action': (p: P<'remote.action'>) => hosts().action(p.host, p.domain, p.action),
    'remote.address': (p: P<'remote.address'>) => hosts().address(p.host, p.domain),
    'remote.console': (p: P<'remote.console'>) => ({ id: hosts().consoleTicket(p.host, p.domain) }),
    'remote.snapshot': (p: P<'remote.snapshot'>) => {
      if (p.action !== 'list' && !p.snapshot)
        throw new HangarError('INVALID_INPUT', `Snapshot ${p.action} needs the snapshot's name.`);
      return hosts().snapshot(p.host, p.domain, p.action, p.snapshot);
    },
    'vm.publish': (p: P<'vm.publish'>) =>
      hosts().publish(p.vm, p.host, {
        pool: p.pool,
        start: p.start,
        domainType: p.domainType,
        ...(p.name ? { name: p.name } : {}),
      }),
  };
}
