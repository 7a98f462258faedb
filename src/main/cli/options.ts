// Turning command-line words into API requests. Paths become absolute here (the engine only
// takes absolute paths); sizes and port forwards are checked with clear messages.
import { resolve } from 'node:path';
import { HangarError } from '../../shared/errors';
import type { PortForward } from '../../shared/vm';

export type Values = Record<string, string | boolean | string[] | undefined>;

export function str(v: Values, key: string): string | undefined {
  const x = v[key];
  return typeof x === 'string' ? x : undefined;
}

export function path(v: Values, key: string): string | undefined {
  const x = str(v, key);
  return x === undefined ? undefined : resolve(x);
}

export function int(v: Values, key: string): number | undefined {
  const x = str(v, key);
  if (x === undefined) return undefined;
  if (!/^\d+$/.test(x)) throw new HangarError('INVALID_INPUT', `--${key} takes a whole number, not "${x}".`);
  return Number(x);
}

/** Memory in MiB from "512", "512M" or "2G". */
export function memory(v: Values): number | undefined {
  const x = str(v, 'memory');
  if (x === undefined) return undefined;
  const m = /^(\d+)\s*([MG]?)(?:i?B)?$/i.exec(x.trim());
  if (!m) throw new HangarError('INVALID_INPUT', `--memory takes MiB or a size like 2G, not "${x}".`);
  return Number(m[1]) * (m[2]?.toUpperCase() === 'G' ? 1024 : 1);
}

/** --forward tcp:2222:22 (protocol optional, tcp by default). */
export function forwards(v: Values): PortForward[] | undefined {
  const list = v.forward;
  if (!Array.isArray(list)) return undefined;
  return list.map((f) => {
    const m = /^(?:(tcp|udp):)?(\d{1,5}):(\d{1,5})$/.exec(f);
    if (!m)
      throw new HangarError(
        'INVALID_INPUT',
        `--forward takes [tcp|udp:]HOSTPORT:GUESTPORT, like tcp:2222:22, not "${f}".`,
      );
    return {
      protocol: (m[1] ?? 'tcp') as 'tcp' | 'udp',
      hostAddress: '127.0.0.1',
      hostPort: Number(m[2]),
      guestPort: Number(m[3]),
    };
  });
}

export function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '')
    throw new HangarError('INVALID_INPUT', `Missing ${what}. See hangar --help.`);
  return value;
}

/**
 * --backing-chain FILE, once per file under an existing image, nearest first: the user names the
 * very chain they trust (the engine refuses any other).
 */
export function backingChain(v: Values): string[] | undefined {
  const list = v['backing-chain'];
  return Array.isArray(list) ? list.map((p) => resolve(p)) : undefined;
}
