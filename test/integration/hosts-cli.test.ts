// Issue 16's hosts as a user types them, each command a new `hangar` process, against a real
// libvirtd (started by the test; domain type qemu, since KVM is unusable here): add the host,
// publish the test guest into a storage pool (disks flattened and uploaded, byte for byte), start
// it there and reach its shell on the serial console, snapshot and revert its disk, power it off,
// and the refusals: a hostile URI, a name taken, a publish that fails halfway leaves nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishResult, RemoteDomain } from '../../src/shared/hosts';
import type { VmConfig } from '../../src/shared/vm';
import { guest } from '../support/guest';
import { tempHome } from '../support/env';
import { hangar, requireBuild } from '../support/cli';
import { libvirtSkipReason, startLibvirtd, type RunningLibvirtd } from '../support/libvirtd';
import { PtyConsole, serialPty } from '../support/pty';

const skip = libvirtSkipReason();
if (skip) console.warn(`libvirt hosts test skipped: ${skip}`);

const POOL = 'hangar-it-pool';

describe.skipIf(skip !== null)('hangar host, publish and --host', () => {
  const t = tempHome('hangar-hosts-');
  const env = { ...t.env, NO_COLOR: '1' };
  const run = (...args: string[]) => hangar(env, args);
  const poolDir = join(t.files, 'pool');
  let lv: RunningLibvirtd;
  let vm: VmConfig;
  let published: PublishResult | null = null;
  let pty: PtyConsole | null = null;

  beforeAll(async () => {
    requireBuild();
    // QEMU runs as libvirt-qemu under qemu:///system: the pool's folders must let it in.
    chmodSync(join(t.files, '..'), 0o755);
    chmodSync(t.files, 0o755);
    mkdirSync(poolDir, { mode: 0o755 });
    const g = guest();
    const disk = join(t.files, 'disk.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
    const c = await run(
      ...['create', '--name', 'web one', '--memory', '256', '--disk', disk],
      ...['--kernel', g.kernel, '--initrd', g.initrd, '--append', g.manifest.directCmdline, '--json'],
    );
    expect(c.code, c.stderr).toBe(0);
    vm = c.json() as VmConfig;
    // A snapshot stays home: the published disk is the current state, flattened.
    const s = await run('snapshot', 'create', vm.id, 'before-publish');
    expect(s.code, s.stderr).toBe(0);
    lv = await startLibvirtd();
    await lv.virsh.run(['pool-define-as', POOL, 'dir', '--target', poolDir]);
    await lv.virsh.run(['pool-start', POOL]);
  });

  afterAll(async () => {
    pty?.close();
    if (lv) {
      if (published) {
        await lv.virsh.destroy(published.domain).catch(() => undefined);
        await lv.virsh.undefine(published.domain).catch(() => undefined);
      }
      await lv.virsh.run(['pool-destroy', POOL]).catch(() => undefined);
      await lv.virsh.run(['pool-undefine', POOL]).catch(() => undefined);
      await lv.stop();
    }
    t.cleanup();
  });

  it('adds a host after connecting to it, and refuses a taken name and a URI that would run a program', async () => {
    const add = await run('host', 'add', 'lab-box', lv.uri);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/Added host "lab-box" \(qemu:\/\/\/system, libvirt \d+\.\d+/);
    const again = await run('host', 'add', 'lab-box', lv.uri);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/exists already/);
    const hostile = await run('host', 'add', 'evil', 'qemu+ssh://me@h/system?command=/bin/sh');
    expect(hostile.code).toBe(2);
    expect(hostile.stderr).toMatch(/Not a libvirt URI/);
    const dash = await run('host', 'add', 'evil', 'qemu+ssh://-oProxyCommand@h/system');
    expect(dash.code).toBe(2);
    // Nothing is kept of a host that does not answer.
    const dead = await run('host', 'add', 'dead', 'qemu+tcp://127.0.0.1:1/system?no_verify=1');
    expect(dead.code).not.toBe(0);
    const list = await run('host', 'list', '--json');
    expect((list.json() as { name: string }[]).map((h) => h.name)).toEqual(['lab-box']);
  });

  it('removes what it uploaded when the publish fails halfway, and names a missing pool first', async () => {
    const noPool = await run('publish', vm.id, '--host', 'lab-box', '--pool', 'nopool');
    expect(noPool.code).toBe(3);
    expect(noPool.stderr).toMatch(/pool-define-as/);
    // This libvirtd sees no KVM, so defining a kvm domain fails after every upload is done.
    const r = await run('publish', vm.id, '--host', 'lab-box', '--pool', POOL, '--domain-type', 'kvm');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/kvm/i);
    expect(readdirSync(poolDir)).toEqual([]);
    expect(await lv.virsh.list()).not.toContain('web one');
    // The VM is not left busy.
    const info = await run('info', vm.id, '--json');
    expect((info.json() as { busy: string | null }).busy).toBeNull();
  });

  it('publishes the VM: every file uploaded to the pool, the disk flattened byte for byte, defined', async () => {
    const r = await run(
      ...['publish', 'web one', '--host', 'lab-box', '--pool', POOL, '--domain-type', 'qemu'],
      ...['--no-start', '--json'],
    );
    expect(r.code, r.stderr).toBe(0);
    published = r.json() as PublishResult;
    expect(published).toMatchObject({ host: 'lab-box', domain: 'web one', started: false });
    expect(published.volumes.map((v) => v.name).sort()).toEqual(
      ['web one-disk0.qcow2', 'web one-initrd', 'web one-kernel'].sort(),
    );
    expect(readdirSync(poolDir).sort()).toEqual(published.volumes.map((v) => v.name).sort());
    expect(published.dropped).toContainEqual(expect.stringMatching(/1 snapshot\(s\).*stay in Hangar/));
    const remoteDisk = published.volumes.find((v) => v.name.endsWith('disk0.qcow2'))!.path;
    const info = JSON.parse(
      execFileSync('qemu-img', ['info', '--output=json', remoteDisk], { encoding: 'utf8' }),
    );
    expect(info.format).toBe('qcow2');
    expect(info['backing-filename']).toBeUndefined();
    expect(info.snapshots).toBeUndefined();
    const local = vm.disks[0]!;
    if (local.owned) throw new Error('the test VM uses its disk in place');
    expect(
      spawnSync('qemu-img', ['compare', '-f', 'qcow2', '-F', 'qcow2', local.path, remoteDisk]).status,
    ).toBe(0);
    const again = await run(
      'publish',
      'web one',
      '--host',
      'lab-box',
      '--pool',
      POOL,
      '--domain-type',
      'qemu',
    );
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/has a domain "web one" already/);
    const list = await run('list', '--host', 'lab-box', '--json');
    expect(list.json() as RemoteDomain[]).toContainEqual({ name: 'web one', state: 'shut off' });
  });

  it('starts it there, reaches its shell, snapshots and reverts its disk, and powers it off', async () => {
    const start = await run('start', '--host', 'lab-box', 'web one');
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(/web one on lab-box: running/);
    expect((await run('start', '--host', 'lab-box', 'web one')).code).toBe(4);
    pty = new PtyConsole(await serialPty(lv.virsh, 'web one'));
    await pty.run('', /hangar-guest# /, 120_000);
    await pty.run('echo before >/mnt/disk/mark && sync && echo WROTE-$((1+1))', /WROTE-2/);
    const snap = await run('snapshot', 'create', '--host', 'lab-box', 'web one', 'one');
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.stdout).toMatch(/Took snapshot "one"\.\none/);
    await pty.run('echo after >/mnt/disk/mark && sync && echo CHANGED-$((2+1))', /CHANGED-3/);
    pty.close();
    const revert = await run('snapshot', 'revert', '--host', 'lab-box', 'web one', 'one');
    expect(revert.code, revert.stderr).toBe(0);
    // Reverting restarts QEMU, which makes a new pty; dropping caches makes the read come from disk.
    pty = new PtyConsole(await serialPty(lv.virsh, 'web one'));
    const out = await pty.run(
      'echo 3 >/proc/sys/vm/drop_caches; echo READ-$(cat /mnt/disk/mark)-$((3+1))',
      /READ-\w+-4/,
    );
    expect(out).toMatch(/READ-before-4/);
    // The test guest has no agent: no address, said plainly.
    const ip = await run('ip', '--host', 'lab-box', 'web one');
    expect(ip.code, ip.stderr).toBe(0);
    expect(ip.stdout).toMatch(/No address: no guest agent answers/);
    const off = await run('stop', '--host', 'lab-box', 'web one', '--force');
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).toMatch(/web one on lab-box: shut off/);
    expect((await run('stop', '--host', 'lab-box', 'web one')).code).toBe(4);
  });

  it('says what is missing: a domain, a host; and forgets a host without touching it', async () => {
    const nope = await run('start', '--host', 'lab-box', 'no such domain');
    expect(nope.code).toBe(3);
    const rm = await run('host', 'remove', 'lab-box');
    expect(rm.code, rm.stderr).toBe(0);
    expect(await lv.virsh.list()).toContain('web one');
    const gone = await run('list', '--host', 'lab-box');
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/hangar host add lab-box URI/);
  });
});
