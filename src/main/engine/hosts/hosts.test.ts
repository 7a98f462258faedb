import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LibvirtUri } from '../../../shared/libvirt';
import { HostName } from '../../../shared/hosts';
import { Virsh } from '../libvirt/virsh';
import { HostRegistry } from './registry';
import { parseDomifaddr, parseDomstats } from './remote';
import { uploadVolume } from './volumes';

const dir = mkdtempSync(join(tmpdir(), 'hangar-hosts-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('libvirt URIs a host may have', () => {
  it.each([
    'qemu:///system',
    'qemu:///session',
    'qemu+ssh://me@build-box/system',
    'qemu+ssh://me@[fe80::1]:2222/system?keyfile=/home/me/.ssh/id_lab&no_verify=1',
    'qemu+tls://host.example/system',
  ])('takes %s', (uri) => expect(LibvirtUri.safeParse(uri).success).toBe(true));

  it.each([
    // These pick a program to run, here or on the far side, or a socket file.
    'qemu+ssh://me@h/system?command=/tmp/evil',
    'qemu+ssh://me@h/system?keyfile=/k&command=/tmp/evil',
    'qemu+ssh://me@h/system?netcat=sh',
    'qemu+ext:///system?command=/bin/sh',
    'qemu+unix:///system?socket=/tmp/s',
    'qemu+ssh://me@h/system?proxy=auto',
    // ssh would read these as options.
    'qemu+ssh://-oProxyCommand@h/system',
    'qemu+ssh://me@-F/system',
    'qemu+ssh://me@[-Fcfg]/system',
    'qemu+ssh://[-oX]/system',
    'xen:///system',
    'qemu:///system\n--help',
    'qemu+ssh://me@h/system?keyfile=/a b',
  ])('refuses %j', (uri) => expect(LibvirtUri.safeParse(uri).success).toBe(false));

  it('names hosts plainly', () => {
    expect(HostName.safeParse('lab-box.2').success).toBe(true);
    for (const bad of ['', '-x', 'a b', 'a/b', '../x', 'x'.repeat(65)])
      expect(HostName.safeParse(bad).success, bad).toBe(false);
  });
});

describe('HostRegistry', () => {
  it('adds, lists, refuses a taken name, removes, and keeps the file whole', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const r = new HostRegistry(home);
    expect(r.list()).toEqual([]);
    r.add('a', 'qemu:///system');
    r.add('b', 'qemu+ssh://me@b/system');
    expect(() => r.add('a', 'qemu:///session')).toThrow(/exists already \(qemu:\/\/\/system\)/);
    expect(new HostRegistry(home).list().map((h) => [h.name, h.uri])).toEqual([
      ['a', 'qemu:///system'],
      ['b', 'qemu+ssh://me@b/system'],
    ]);
    expect(r.remove('a').uri).toBe('qemu:///system');
    expect(r.list().map((h) => h.name)).toEqual(['b']);
    expect(() => r.get('a')).toThrow(/No host named "a". Add it with hangar host add a URI/);
  });

  it('reports a damaged or tampered file and never overwrites it', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const file = join(home, 'hosts.json');
    for (const content of [
      '{not json',
      JSON.stringify({
        version: 1,
        hosts: [{ name: 'x', uri: 'qemu+ssh://h/system?command=/bin/sh', added: '' }],
      }),
    ]) {
      writeFileSync(file, content);
      const r = new HostRegistry(home);
      expect(() => r.list()).toThrow(/hosts.json is damaged .*Hangar does not overwrite it/);
      expect(() => r.add('y', 'qemu:///system')).toThrow(/damaged/);
      expect(readFileSync(file, 'utf8')).toBe(content);
    }
  });
});

describe('parsing virsh output', () => {
  it('reads domstats blocks, names with quotes and spaces included', () => {
    const out = [
      "Domain: 'web one'",
      '  state.state=1',
      '  state.reason=1',
      '',
      "Domain: 'it's'",
      '  state.state=5',
      '  state.reason=0',
      '',
      "Domain: 'odd'",
      '  state.state=42',
      '',
    ].join('\n');
    expect(parseDomstats(out)).toEqual([
      { name: 'web one', state: 'running' },
      { name: "it's", state: 'shut off' },
      { name: 'odd', state: 'no state' },
    ]);
    expect(parseDomstats('')).toEqual([]);
  });

  it('takes the first global address of each family from domifaddr', () => {
    const out = [
      ' Name       MAC address          Protocol     Address',
      '-------------------------------------------------------------------------------',
      ' lo         00:00:00:00:00:00    ipv4         127.0.0.1/8',
      ' -          -                    ipv6         ::1/128',
      ' eth0       52:54:00:12:34:56    ipv4         192.168.122.50/24',
      ' -          -                    ipv6         fe80::5054:ff:fe12:3456/64',
      ' -          -                    ipv6         fd00::50/64',
    ].join('\n');
    expect(parseDomifaddr(out)).toEqual({ ipv4: '192.168.122.50', ipv6: 'fd00::50' });
    expect(parseDomifaddr('')).toEqual({ ipv4: null, ipv6: null });
  });
});

describe('uploadVolume', () => {
  it('deletes the volume it made when the upload fails, and says why', async () => {
    // A stand-in virsh: vol-upload fails; every call is logged.
    const log = join(dir, 'calls.log');
    const bin = join(dir, 'virsh');
    writeFileSync(
      bin,
      `#!/bin/sh\necho "$*" >> ${log}\ncase "$*" in *vol-upload*) echo 'error: cannot write: No space left on device' >&2; exit 1;; esac\nexit 0\n`,
    );
    chmodSync(bin, 0o755);
    const file = join(dir, 'disk.qcow2');
    writeFileSync(file, Buffer.alloc(4096));
    const virsh = new Virsh({ uri: 'qemu:///system', bin });
    await expect(uploadVolume(virsh, 'p', 'v1', file, () => undefined)).rejects.toThrow(
      /vol-upload on qemu:\/\/\/system failed: .*No space left on device/,
    );
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.map((c) => c.split(' ')[3])).toEqual(['vol-create-as', 'vol-upload', 'vol-delete']);
    expect(calls[0]).toContain('--capacity 4096 --format raw');
  });
});
