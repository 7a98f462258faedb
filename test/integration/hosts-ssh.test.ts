// Issue 16 over qemu+ssh://, against a real libvirtd reached through a throwaway sshd on this
// machine (test/support/sshd.ts: its own host and client keys, a known_hosts file; ~/.ssh is never
// used): every virsh call and console after the first rides one shared SSH connection; an unknown
// host key is refused with what to do; the test guest is published over SSH, and its serial
// console and screen open through the host server's console route, as the app opens them.
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDispatcher } from '../../src/main/api/dispatch';
import { Engine } from '../../src/main/engine/engine';
import { hostsOf } from '../../src/main/engine/hosts';
import { CONTROL_SOCKET } from '../../src/main/engine/hosts/ssh';
import { runtimeRoot } from '../../src/main/engine/config/paths';
import { startHostServer, type HostServer } from '../../src/main/server';
import type { PublishResult, RemoteAddress, RemoteDomain } from '../../src/shared/hosts';
import type { VmConfig } from '../../src/shared/vm';
import { tempHome } from '../support/env';
import { libvirtSkipReason, startLibvirtd, type RunningLibvirtd } from '../support/libvirtd';
import { sshdSkipReason, startSshd, type RunningSshd } from '../support/sshd';
import { makeGuestVm, shell } from '../support/vms';

const skip = libvirtSkipReason() ?? sshdSkipReason();
if (skip) console.warn(`qemu+ssh test skipped: ${skip}`);
const POOL = 'hangar-ssh-pool';
const DOMAIN = 'far one';

describe.skipIf(skip !== null)('libvirt hosts over qemu+ssh://', () => {
  const t = tempHome('hangar-ssh-');
  let engine: Engine;
  let server: HostServer;
  let dispatcher: ReturnType<typeof createDispatcher>;
  let lv: RunningLibvirtd;
  let sshd: RunningSshd;
  let vm: VmConfig;
  const logged: string[] = [];
  const call = <T>(method: string, params: unknown) => dispatcher.call(method, params) as Promise<T>;
  const sshDir = () => join(runtimeRoot(t.home, t.env), 'ssh');
  const masters = () => readdirSync(sshDir()).filter((f) => CONTROL_SOCKET.test(f));
  const logins = () => sshd.log().match(/Accepted publickey/g)?.length ?? 0;

  beforeAll(async () => {
    engine = await Engine.open({ home: t.home, env: t.env });
    dispatcher = createDispatcher(engine);
    server = await startHostServer({ dispatcher, log: (m) => logged.push(m) });
    // QEMU runs as libvirt-qemu under qemu:///system: the pool's folders must let it in.
    chmodSync(join(t.files, '..'), 0o755);
    chmodSync(t.files, 0o755);
    const poolDir = join(t.files, 'pool');
    mkdirSync(poolDir, { mode: 0o755 });
    lv = await startLibvirtd();
    await lv.virsh.run(['pool-define-as', POOL, 'dir', '--target', poolDir]);
    await lv.virsh.run(['pool-start', POOL]);
    sshd = await startSshd();
    vm = await makeGuestVm(engine, DOMAIN);
  }, 300_000);

  afterAll(async () => {
    if (lv) {
      for (const d of [DOMAIN, 'far two']) {
        await lv.virsh.destroy(d).catch(() => undefined);
        await lv.virsh.undefine(d).catch(() => undefined);
      }
      await lv.virsh.run(['pool-destroy', POOL]).catch(() => undefined);
      await lv.virsh.run(['pool-undefine', POOL]).catch(() => undefined);
    }
    await server?.close();
    // VMs outlive their engine by design: the local one is stopped here, however the test ended.
    if (engine && vm && !engine.isStopped(vm.id))
      await engine.stop(vm.id, { force: true }).catch(() => undefined);
    await engine?.close();
    await sshd?.stop();
    await lv?.stop();
    t.cleanup();
  });

  it('refuses a host whose key is not known, saying what to do, and keeps nothing of it', async () => {
    const empty = join(t.files, 'empty_known_hosts');
    writeFileSync(empty, '');
    const uri = sshd.libvirtUri.replace(/known_hosts=[^&]*/, `known_hosts=${empty}`);
    await expect(call('remote.addHost', { name: 'unknown', uri })).rejects.toThrow(
      /does not know the host key.*Connect once yourself/,
    );
    expect(await call('remote.hosts', {})).toEqual([]);
  });

  it('adds the host, and the calls after the first ride one shared SSH connection', async () => {
    const before = logins();
    const added = await call<{ version: string | null }>('remote.addHost', {
      name: 'far',
      uri: sshd.libvirtUri,
    });
    expect(added.version).toMatch(/^\d+\.\d+/);
    for (let i = 0; i < 3; i++)
      expect(await call<RemoteDomain[]>('remote.domains', { host: 'far' })).toEqual(expect.any(Array));
    expect(masters()).toHaveLength(1);
    expect(logins() - before).toBe(1);
  });

  it('publishes the guest over SSH and starts it there; snapshots, address and state come back', async () => {
    const steps: string[] = [];
    const onProgress = (e: { id: string; operation: string; step: string }) => {
      if (e.id === vm.id && e.operation === 'publish') steps.push(e.step);
    };
    engine.on('progress', onProgress);
    const r = await call<PublishResult>('vm.publish', {
      vm: vm.id,
      host: 'far',
      pool: POOL,
      domainType: 'qemu',
      start: true,
    });
    engine.off('progress', onProgress);
    expect(r).toMatchObject({ host: 'far', domain: DOMAIN, started: true, pointInTime: null });
    // Flattening reports qemu-img's own progress, then the upload its own.
    expect(steps).toContainEqual(expect.stringMatching(/^flattening far one-disk0\.qcow2 \(100%\)$/));
    const flattened = steps.findIndex((x) => x.startsWith('flattening far one-disk0'));
    expect(steps.slice(flattened), steps.join('\n')).toContainEqual(
      expect.stringMatching(/^uploading far one-disk0/),
    );
    expect(await call<RemoteDomain[]>('remote.domains', { host: 'far' })).toContainEqual({
      name: DOMAIN,
      state: 'running',
    });
    expect(
      await call('remote.snapshot', { host: 'far', domain: DOMAIN, action: 'create', snapshot: 'first' }),
    ).toEqual(['first']);
    // The test guest has no agent: no address, and no error.
    expect(await call<RemoteAddress>('remote.address', { host: 'far', domain: DOMAIN })).toEqual({
      domain: DOMAIN,
      ipv4: null,
      ipv6: null,
    });
    expect(masters()).toHaveLength(1);
  }, 300_000);

  it("opens the domain's serial console through the console route: the guest's shell answers", async () => {
    const { id } = await call<{ id: string }>('remote.console', { host: 'far', domain: DOMAIN });
    expect(id).toMatch(/^[a-z0-9]{12}$/);
    const ws = await openConsole('serial', id);
    let seen = '';
    ws.on('message', (d: Buffer) => (seen += d.toString()));
    const until = async (re: RegExp, ms: number, poke?: string) => {
      const end = Date.now() + ms;
      while (!re.test(seen)) {
        if (Date.now() > end) throw new Error(`not seen ${re} in:\n${seen.slice(-2000)}`);
        if (poke) ws.send(poke);
        await new Promise((res) => setTimeout(res, 1000));
      }
    };
    // The guest may have printed its prompt before the console opened: Enter asks for a new one.
    await until(/hangar-guest# /, 180_000, '\r');
    ws.send('echo OVER-SSH-$((20+22))\r');
    await until(/OVER-SSH-42/, 30_000);
    ws.close();
  }, 240_000);

  it("opens the domain's screen through an SSH forward: the VNC server greets", async () => {
    const { id } = await call<{ id: string }>('remote.console', { host: 'far', domain: DOMAIN });
    const ws = await openConsole('vnc', id);
    const greeting = await firstMessage(ws);
    expect(greeting).toMatch(/^RFB 003\.00\d\n/);
    ws.close();
    // The forward's listener is gone once its one connection is made.
    await new Promise((res) => setTimeout(res, 1000));
    expect(readdirSync(sshDir()).filter((f) => f.startsWith('fwd-'))).toEqual([]);
  });

  it('opens the screen of a domain on a local URI directly, and refuses an id that is no ticket', async () => {
    await call('remote.addHost', { name: 'here', uri: lv.uri });
    const { id } = await call<{ id: string }>('remote.console', { host: 'here', domain: DOMAIN });
    const ws = await openConsole('vnc', id);
    const greeting = await firstMessage(ws);
    expect(greeting).toMatch(/^RFB 003\.00\d\n/);
    ws.close();
    const unknown = await openConsole('vnc', 'aaaaaaaaaaaa').then(
      (w) => new Promise<number>((resolve) => w.once('close', (code) => resolve(code))),
    );
    expect(unknown).toBe(4404);
  });

  it('publishes a running VM: its disk copied at one point in time while it keeps running', async () => {
    // The same VM is on the host already (its UUID comes from the VM's id): that one goes first.
    await lv.virsh.destroy(DOMAIN);
    await lv.virsh.undefine(DOMAIN);
    await engine.start(vm.id);
    const local = await shell(engine, vm.id, 180_000);
    try {
      const w = await local.run('echo live-$((40+2)) >/mnt/disk/mark && sync');
      expect(w.status).toBe(0);
      // While the disks upload the VM is not held: it could be stopped or snapshotted meanwhile.
      const busy: (string | null)[] = [];
      engine.failpoints.set('publish:upload', () => void busy.push(engine.busyWith(vm.id)));
      const r = await call<PublishResult>('vm.publish', {
        vm: vm.id,
        host: 'far',
        pool: POOL,
        name: 'far two',
        domainType: 'qemu',
        start: true,
      });
      // The test guest has no agent to freeze its filesystems.
      engine.failpoints.delete('publish:upload');
      expect(r).toMatchObject({ domain: 'far two', started: true, pointInTime: 'crash-consistent' });
      expect(busy.length).toBeGreaterThan(0);
      expect(busy.every((b) => b === null)).toBe(true);
      expect(engine.runtime(vm.id).state).toBe('running');
      // The VM goes on as before.
      expect((await local.run('cat /mnt/disk/mark')).output).toMatch(/live-42/);
    } finally {
      local.close();
    }
    const { id } = await call<{ id: string }>('remote.console', { host: 'far', domain: 'far two' });
    const ws = await openConsole('serial', id);
    let seen = '';
    ws.on('message', (d: Buffer) => (seen += d.toString()));
    const end = Date.now() + 180_000;
    while (!/hangar-guest# /.test(seen)) {
      if (Date.now() > end) throw new Error(`no prompt in:\n${seen.slice(-2000)}`);
      ws.send('\r');
      await new Promise((res) => setTimeout(res, 1000));
    }
    ws.send('echo MARK-$(cat /mnt/disk/mark)-END\r');
    const until = Date.now() + 30_000;
    while (!/MARK-\S+-END/.test(seen.replace(/echo MARK-\$\(cat[^\n]*/g, ''))) {
      if (Date.now() > until) throw new Error(`no mark in:\n${seen.slice(-2000)}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(seen).toMatch(/MARK-live-42-END/);
    // A console that ends on the far side (the domain powered off) closes cleanly, not as an error.
    const closed = new Promise<number>((res) => ws.once('close', (code) => res(code)));
    await lv.virsh.destroy('far two');
    expect(await closed).toBe(1000);
    await engine.stop(vm.id, { force: true });
  }, 420_000);

  it('ends the shared connection when asked (as the engine does when it closes)', async () => {
    // A call first: an idle shared connection ends by itself after a minute.
    await call('remote.domains', { host: 'far' });
    expect(masters()).toHaveLength(1);
    await hostsOf(engine).ssh.closeAll();
    await new Promise((res) => setTimeout(res, 500));
    expect(masters()).toEqual([]);
    // And the next call opens a new one.
    expect(await call<RemoteDomain[]>('remote.domains', { host: 'far' })).toContainEqual({
      name: 'far two',
      state: 'shut off',
    });
    expect(masters()).toHaveLength(1);
  });

  function firstMessage(ws: WebSocket): Promise<string> {
    return new Promise((resolve, reject) => {
      ws.once('message', (d: Buffer) => resolve(d.toString()));
      ws.once('close', (code, why) =>
        reject(new Error(`closed ${code} ${why.toString()}: ${logged.join('\n')}`)),
      );
    });
  }

  function openConsole(kind: 'vnc' | 'serial', id: string): Promise<WebSocket> {
    const origin = `http://127.0.0.1:${server.port}`;
    const ws = new WebSocket(
      `ws://127.0.0.1:${server.port}${server.basePath}console/${kind}/${id}`,
      ['binary'],
      {
        headers: { Cookie: `hangar_token=${server.token}` },
        origin,
      },
    );
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }
});
