// The libvirt methods of the API (engine/libvirt): export a VM as domain XML, import a domain.
import type { z } from 'zod';
import type { ApiParams } from '../../shared/api';
import type { Engine } from '../engine/engine';
import { exportLibvirt, importLibvirt } from '../engine/libvirt';

type P<M extends keyof typeof ApiParams> = z.output<(typeof ApiParams)[M]>;

export function libvirtHandlers(engine: Engine) {
  return {
    'vm.exportLibvirt': (p: P<'vm.exportLibvirt'>) =>
      exportLibvirt(engine, p.vm, {
        ...(p.domainType ? { domainType: p.domainType } : {}),
        ...(p.network ? { userNet: { network: p.network } } : {}),
        ...(p.name ? { name: p.name } : {}),
        ...(p.nvramFile ? { nvramFile: p.nvramFile } : {}),
      }),
    'vm.importLibvirt': (p: P<'vm.importLibvirt'>) =>
      importLibvirt(engine, p.source, {
        copyDisks: p.copyDisks,
        blockDevices: p.blockDevices,
        ...(p.name ? { name: p.name } : {}),
      }),
  };
}
