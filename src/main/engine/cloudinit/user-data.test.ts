import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { CloudInit } from '../../../shared/vm';
import { checkExtraUserData, checkNetworkConfig, hostnameFor, metaData, userData } from './user-data';

const CI: CloudInit = {
  instanceId: 'i-abcdefghij012345',
  hostname: 'web-1',
  user: 'dev',
  sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB dev@host'],
  passwordHash: null,
  sshPort: 2222,
};

describe('cloud-init user-data', () => {
  it('creates the user with the keys, sudo and no password login when there is no password', () => {
    const text = userData(CI, null);
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const doc = parse(text) as { hostname: string; ssh_pwauth: boolean; users: Record<string, unknown>[] };
    expect(doc.hostname).toBe('web-1');
    expect(doc.ssh_pwauth).toBe(false);
    expect(doc.users[0]).toMatchObject({
      name: 'dev',
      ssh_authorized_keys: CI.sshKeys,
      lock_passwd: true,
      sudo: 'ALL=(ALL) NOPASSWD:ALL',
    });
    expect(doc.users[0]).not.toHaveProperty('passwd');
  });

  it('stores only the hash of a password', () => {
    const doc = parse(userData({ ...CI, passwordHash: '$6$salt$hash' }, null)) as {
      users: { passwd: string; lock_passwd: boolean }[];
      ssh_pwauth: boolean;
    };
    expect(doc.users[0]).toMatchObject({ passwd: '$6$salt$hash', lock_passwd: false });
    expect(doc.ssh_pwauth).toBe(true);
  });

  it('merges extra cloud-config keys, and puts a script beside it in a multipart message', () => {
    const merged = parse(userData(CI, checkExtraUserData('#cloud-config\nruncmd:\n  - [touch, /x]\n'))) as {
      runcmd: string[][];
      users: unknown[];
    };
    expect(merged.runcmd).toEqual([['touch', '/x']]);
    expect(merged.users).toHaveLength(1);
    const mime = userData(CI, checkExtraUserData('#!/bin/sh\necho hi\n'));
    expect(mime).toMatch(/^Content-Type: multipart\/mixed; boundary="hangar-i-abcdefghij012345"/);
    expect(mime).toContain('Content-Type: text/x-shellscript');
    expect(mime).toContain('#!/bin/sh\necho hi');
  });

  it.each([
    ['not a cloud-config or a script', 'runcmd: []', /must be a cloud-config document/],
    ['broken YAML, with its place', '#cloud-config\nruncmd: [\n', /not valid YAML \(line \d+, column \d+\)/],
    ['a list instead of a mapping', '#cloud-config\n- a\n- b\n', /must be a mapping/],
    ['a key Hangar sets', '#cloud-config\nusers: []\n', /sets users/],
    ['a duplicate key', '#cloud-config\nruncmd: []\nruncmd: []\n', /not valid YAML/],
    ['an alias bomb', `#cloud-config\na: &a [x]\nb: [${'*a,'.repeat(150)}*a]\n`, /not valid YAML/],
  ])('refuses extra user-data that is %s', (_what, text, message) => {
    expect(() => checkExtraUserData(text)).toThrow(message);
  });

  it('checks network-config versions', () => {
    expect(() => checkNetworkConfig('version: 2\nethernets: {}\n')).not.toThrow();
    expect(() => checkNetworkConfig('network:\n  version: 1\n  config: []\n')).not.toThrow();
    expect(() => checkNetworkConfig('version: 3\n')).toThrow(/version: 1/);
    expect(() => checkNetworkConfig(': : :')).toThrow(/YAML|version/);
  });

  it('writes meta-data with the instance-id and hostname', () => {
    expect(parse(metaData(CI))).toEqual({ 'instance-id': CI.instanceId, 'local-hostname': 'web-1' });
  });

  it.each([
    ['Debian guest ✓', 'debian-guest'],
    ['Web_Server 01', 'web-server-01'],
    ['--x--', 'x'],
    ['✓✓✓', 'vm-abcdef'],
    ['a'.repeat(80), 'a'.repeat(63)],
  ])('makes the hostname of %j valid: %s', (name, host) => {
    expect(hostnameFor(name, 'abcdefghijkl')).toBe(host);
  });
});
