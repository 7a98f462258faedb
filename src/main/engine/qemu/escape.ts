// QEMU parses most option values as comma-separated key=value lists (QemuOpts). A comma inside a
// value must be doubled or it starts a new key, which is how option injection happens.
import { HangarError } from '../../../shared/errors';

export function optValue(value: string): string {
  if (value.includes('\u0000'))
    throw new HangarError('INVALID_INPUT', 'A value passed to QEMU contains a NUL byte.');
  return value.replaceAll(',', ',,');
}

/** Builds "key=value,key=value" with every value escaped. Keys are ours, never user text. */
export function opts(first: string, pairs: Record<string, string | number | boolean | undefined>): string {
  const parts = [first];
  for (const [key, value] of Object.entries(pairs)) {
    if (value === undefined) continue;
    const text = typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
    parts.push(`${key}=${optValue(text)}`);
  }
  return parts.join(',');
}

/** -blockdev and -netdev accept JSON, which carries any file name without escaping rules of its own. */
export function json(value: object): string {
  return JSON.stringify(value);
}
