// The NoCloud user-data and meta-data Hangar writes for a cloud image: one user with the SSH
// keys (and optionally a hashed password), the hostname, and the user's own extra user-data,
// which is validated before use. YAML is read and written with the yaml library, never by hand.
import { parse, stringify } from 'yaml';
import { HangarError } from '../../../shared/errors';
import type { CloudInit } from '../../../shared/vm';

/** Cloud-config keys Hangar sets; extra user-data may not override them (it would lock the user out). */
const OURS = ['users', 'hostname', 'fqdn', 'ssh_pwauth', 'chpasswd'];

export interface ExtraUserData {
  kind: 'cloud-config' | 'script';
  text: string;
}

/**
 * Checks extra user-data: a `#cloud-config` document must parse as a YAML mapping, a script
 * must start with `#!`. Anything else is refused before a VM is made.
 */
export function checkExtraUserData(text: string): ExtraUserData {
  const first = text.split('\n', 1)[0]!.trim();
  if (first.startsWith('#!')) return { kind: 'script', text };
  if (first !== '#cloud-config') {
    throw new HangarError(
      'INVALID_INPUT',
      'Extra user-data must be a cloud-config document (first line "#cloud-config") or a script ' +
        '(first line "#!/bin/sh" or similar).',
    );
  }
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    const e = err as Error & { linePos?: { line: number; col: number }[] };
    const at = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
    throw new HangarError(
      'INVALID_INPUT',
      `The extra user-data is not valid YAML${at}: ${e.message.split('\n')[0]}`,
    );
  }
  if (doc === null || doc === undefined) return { kind: 'cloud-config', text };
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new HangarError(
      'INVALID_INPUT',
      'The extra cloud-config must be a mapping of keys (like runcmd:, packages:).',
    );
  const clash = OURS.filter((k) => Object.hasOwn(doc as object, k));
  if (clash.length)
    throw new HangarError(
      'INVALID_INPUT',
      `The extra cloud-config sets ${clash.join(', ')}, which Hangar sets from the user, keys and hostname ` +
        'you gave; set them there instead.',
    );
  return { kind: 'cloud-config', text };
}

/** Hangar's own cloud-config, merged with extra cloud-config keys when there are some. */
export function userData(ci: CloudInit, extra: ExtraUserData | null): string {
  const user: Record<string, unknown> = {
    name: ci.user,
    groups: ['sudo'],
    shell: '/bin/bash',
    sudo: 'ALL=(ALL) NOPASSWD:ALL',
    ssh_authorized_keys: ci.sshKeys,
    lock_passwd: ci.passwordHash === null,
  };
  if (ci.passwordHash) user.passwd = ci.passwordHash;
  const doc: Record<string, unknown> = {
    hostname: ci.hostname,
    users: [user],
    ssh_pwauth: ci.passwordHash !== null,
  };
  if (extra?.kind === 'cloud-config') Object.assign(doc, parse(extra.text) ?? {});
  const cloudConfig = `#cloud-config\n${stringify(doc)}`;
  if (extra?.kind !== 'script') return cloudConfig;
  // A script goes beside the cloud-config in a MIME multipart, which cloud-init reads as both.
  const boundary = `hangar-${ci.instanceId}`;
  return [
    'Content-Type: multipart/mixed; boundary="' + boundary + '"',
    'MIME-Version: 1.0',
    '',
    `--${boundary}`,
    'Content-Type: text/cloud-config; charset="utf-8"',
    '',
    cloudConfig,
    `--${boundary}`,
    'Content-Type: text/x-shellscript; charset="utf-8"',
    '',
    extra.text,
    `--${boundary}--`,
    '',
  ].join('\n');
}

export function metaData(ci: CloudInit): string {
  return stringify({ 'instance-id': ci.instanceId, 'local-hostname': ci.hostname });
}

/** A hostname from a VM name: lowercase letters, digits and dashes, at most 63, never empty. */
export function hostnameFor(name: string, id: string): string {
  const h = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return /^[a-z0-9]/.test(h) ? h : `vm-${id.slice(0, 6)}`;
}

/** A network-config must be a YAML mapping with version 1 or 2, as NoCloud reads it. */
export function checkNetworkConfig(text: string): void {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100, uniqueKeys: true });
  } catch (err) {
    throw new HangarError(
      'INVALID_INPUT',
      `The network-config is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const d = doc as { version?: unknown; network?: { version?: unknown } } | null;
  const version = d?.version ?? d?.network?.version;
  if (!d || typeof d !== 'object' || (version !== 1 && version !== 2))
    throw new HangarError(
      'INVALID_INPUT',
      'The network-config must be a mapping with "version: 1" or "version: 2".',
    );
}
