// `hangar create` and `hangar edit`: options to requests.
import type { CreateVmRequest, EditVmRequest } from '../../shared/requests';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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
  if (str(v, 'os') && str(v, 'os-variant'))
    throw new HangarError(
      'INVALID_INPUT',
      'Give --os (a family) or --os-variant (an OS from hangar os search), not both.',
    );
  return {
    name: need(str(v, 'name'), '--name'),
    osVariant: str(v, 'os-variant'),
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

function tagList(v: Values): string[] | undefined {
  const t = v.tag;
  if (t === undefined) return undefined;
  if (v['no-tags'] === true)
    throw new HangarError('INVALID_INPUT', '--no-tags clears the tags; give it or --tag, not both.');
  return (Array.isArray(t) ? t : [t]).map(String);
}

export function editRequest(v: Values): EditVmRequest {
  if (v['share-readonly'] === true && v['share-writable'] === true)
    throw new HangarError(
      'INVALID_INPUT',
      '--share-readonly and --share-writable contradict each other; give one.',
    );
  const patch: EditVmRequest = {
    name: str(v, 'name'),
    description: str(v, 'description'),
    // --tag replaces the list (repeat it for several); --no-tags clears it.
    tags: tagList(v) ?? (v['no-tags'] === true ? [] : undefined),
    cpus: int(v, 'cpus'),
    memoryMiB: memory(v),
    firmware: str(v, 'firmware') as EditVmRequest['firmware'],
    tpm: v.tpm === true ? true : v['no-tpm'] === true ? false : undefined,
    portForwards: forwards(v),
    sharedFolder: v['no-share'] === true ? null : path(v, 'share'),
    shareReadOnly: v['share-readonly'] === true ? true : v['share-writable'] === true ? false : undefined,
    share9p: v['share-9p'] === true ? true : v['no-share-9p'] === true ? false : undefined,
  };
  return Object.fromEntries(Object.entries(patch).filter(([, x]) => x !== undefined));
}

/** Reads a password without echo from the terminal, or one line from standard input. */
async function readPassword(): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  if (!process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    throw new HangarError(
      'INVALID_INPUT',
      '--password reads the password from standard input, which was empty.',
    );
  }
  process.stderr.write('Password for the guest user (not shown): ');
  process.stdin.setRawMode(true);
  let text = '';
  try {
    for await (const chunk of process.stdin) {
      const s = (chunk as Buffer).toString('utf8');
      if (s === '\u0003') throw new HangarError('INVALID_INPUT', 'Cancelled.');
      if (s === '\r' || s === '\n') break;
      text = s === '\u007f' ? text.slice(0, -1) : text + s;
    }
  } finally {
    process.stdin.setRawMode(false);
    process.stderr.write('\n');
  }
  return text;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new HangarError('NOT_FOUND', `Cannot read the ${what} ${file}: ${(err as Error).message}`);
  }
}

/**
 * `--cloud-image FILE`: the image is copied in as the VM's disk (grown with --disk-size), and a
 * cloud-init seed says who may log in: --user, --ssh-key FILE (default ~/.ssh/*.pub), --password,
 * --user-data FILE, --network-config FILE.
 */
export async function cloudImageRequest(v: Values): Promise<Partial<CreateVmRequest>> {
  const library = str(v, 'image');
  const image = path(v, 'cloud-image');
  if (library && image)
    throw new HangarError(
      'INVALID_INPUT',
      'Give --image (a library image) or --cloud-image (a file), not both.',
    );
  if (library) {
    // A library image: the VM is an overlay on it. cloud-init settings make a seed; a catalog
    // cloud image gets one anyway (the engine knows it is one).
    const wantsSeed = ['cloud-init', 'user', 'ssh-key', 'password', 'user-data', 'network-config'].some(
      (k) => v[k] !== undefined,
    );
    return {
      image: library,
      ...(str(v, 'disk-size') ? { diskSize: str(v, 'disk-size') } : {}),
      ...(wantsSeed ? { cloudInit: await cloudInit(v) } : {}),
    };
  }
  if (!image) return {};
  return {
    disk: { kind: 'existing', path: image, copy: true, confirmChain: backingChain(v) },
    ...(str(v, 'disk-size') ? { diskSize: str(v, 'disk-size') } : {}),
    cloudInit: await cloudInit(v),
  };
}

async function cloudInit(v: Values): Promise<NonNullable<CreateVmRequest['cloudInit']>> {
  const keys = Array.isArray(v['ssh-key'])
    ? v['ssh-key'].map((f) => readText(f, 'SSH public key').trim())
    : undefined;
  const userData = str(v, 'user-data');
  const network = str(v, 'network-config');
  return {
    user: str(v, 'user'),
    sshKeys: keys,
    password: v.password === true ? await readPassword() : undefined,
    userData: userData ? readText(userData, 'user-data file') : undefined,
    networkConfig: network ? readText(network, 'network-config file') : undefined,
  };
}
