// `hangar create` and `hangar edit`: options to requests.
import type { CreateVmRequest, EditVmRequest } from '../../shared/requests';
import { HangarError } from '../../shared/errors';
import { backingChain, forwards, int, memory, need, path, str, type Values } from './options';

export function createRequest(v: Values): CreateVmRequest {
  const existing = path(v, 'disk');
  const disk: CreateVmRequest['disk'] = v['no-disk']
    ? { kind: 'none' }
    : existing
      ? {
          kind: 'existing',
          path: existing,
          copy: v['copy-disk'] === true,
          confirmChain: backingChain(v),
          blockDevice: v['block-device'] === true,
          ...(str(v, 'disk-format') ? { format: str(v, 'disk-format') as 'qcow2' | 'raw' } : {}),
        }
      : {
          kind: 'new',
          size: str(v, 'disk-size') ?? '20G',
          format: (str(v, 'disk-format') ?? 'qcow2') as 'qcow2' | 'raw',
          preallocation: (str(v, 'preallocation') ?? 'off') as 'off',
        };
  const kernel = path(v, 'kernel');
  if (v['no-network'] && v.forward) {
    throw new HangarError('INVALID_INPUT', '--forward needs a network; drop --no-network or the forwards.');
  }
  return {
    name: need(str(v, 'name'), '--name'),
    osType: (str(v, 'os') ?? 'linux') as CreateVmRequest['osType'],
    description: str(v, 'description'),
    cpus: int(v, 'cpus'),
    memoryMiB: memory(v),
    firmware: str(v, 'firmware') as CreateVmRequest['firmware'],
    tpm: v.tpm === true ? true : undefined,
    disk,
    iso: path(v, 'iso') ?? null,
    network: v['no-network'] ? null : { portForwards: forwards(v) ?? [] },
    directBoot: kernel ? { kernel, initrd: path(v, 'initrd'), cmdline: str(v, 'append') ?? '' } : null,
  };
}

export function editRequest(v: Values): EditVmRequest {
  const patch: EditVmRequest = {
    name: str(v, 'name'),
    description: str(v, 'description'),
    cpus: int(v, 'cpus'),
    memoryMiB: memory(v),
    firmware: str(v, 'firmware') as EditVmRequest['firmware'],
    tpm: v.tpm === true ? true : v['no-tpm'] === true ? false : undefined,
    portForwards: forwards(v),
  };
  return Object.fromEntries(Object.entries(patch).filter(([, x]) => x !== undefined));
}
