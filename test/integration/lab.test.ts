// Labs end to end with the real parts: the tiny guest as a template, linked clones on a lab
// segment served by the real switch process (out/main/switch.js), QEMU's stream netdev, the
// guest's own DHCP client, DNS resolver, ping, wget and httpd. One lab is brought up once and
// taken through every verb; a second lab with the same subnet checks isolation.
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import { labUp, planLab } from '../../src/main/engine/labs/up';
import { labCapture, labDestroy, labDown, labReset, labStatus } from '../../src/main/engine/labs/lifecycle';
import { loadLabState } from '../../src/main/engine/labs/state';
import { setTemplate } from '../../src/main/engine/rollback/templates';
import { labPaths } from '../../src/main/engine/config/paths';
import { switchPid } from '../../src/main/engine/network/switch/process';
import type { LabEvent } from '../../src/shared/lab/status';
import { SerialConsole } from '../../src/main/engine/consoles/serial';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, promptOf } from '../support/vms';
import { requireBuild } from '../support/cli';

const t = tempHome('hangar-lab-');
let engine: Engine;
let web: Server;
let webPort = 0;
const consoles: SerialConsole[] = [];

const LAB = (name: string, extra = '') => `version: 1
name: ${name}
baseline: on-ready
networks:
  lan: { subnet: 10.77.0.0/24 }
vms:
  a:
    template: tiny
    memory: 256M
    nics: [{ network: lan, ip: 10.77.0.20 }]
    forwards: ['${name === 'one' ? 18480 : 18481}:80']
    ready: ['serial:HANGAR-GUEST-READY', 'http:80/']
${extra}`;
const ONE = LAB(
  'one',
  `  b:
    template: tiny
    memory: 256M
    nics: [{ network: lan }]
    ready: ['serial:HANGAR-GUEST-READY']
    dependsOn: [a]
`,
);

/** The guest's shell on its serial console; the guest is up already (the lab waited for it). */
async function console(name: string): Promise<SerialConsole> {
  const s = await promptOf(engine, name);
  consoles.push(s);
  return s;
}

beforeAll(async () => {
  requireBuild();
  engine = await openEngine(t);
  // A small qcow2 disk: the lab baseline and the saved lab are internal snapshots with RAM.
  const tiny = await makeGuestVm(engine, 'tiny', { memoryMiB: 256 });
  await setTemplate(engine, tiny.id, true);
  web = createServer((_req, res) => res.end('hello from the host'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  webPort = (web.address() as { port: number }).port;
}, 120_000);

afterAll(async () => {
  consoles.forEach((c) => c.close());
  web?.close();
  for (const lab of ['one', 'two']) {
    const pid = switchPid(labPaths(t.home, lab, t.env));
    if (pid) process.kill(pid, 'SIGKILL');
  }
  if (engine) await closeEngine(engine, t);
});

describe('a lab of tiny guests on a private segment', () => {
  const events: LabEvent[] = [];
  let b: SerialConsole;

  it('plans, then comes up in dependency order with DHCP leases, DNS names and the baseline', async () => {
    const { plan } = planLab(engine, { text: ONE, sourceFile: null });
    expect(plan.map((p) => [p.vm, p.action])).toEqual([
      ['a', 'create'],
      ['b', 'create'],
    ]);
    await labUp(engine, { text: ONE, sourceFile: null }, { onEvent: (e) => events.push(e) });
    const readyOrder = events.filter((e) => e.phase === 'ready').map((e) => e.vm);
    expect(readyOrder).toEqual(['a', 'b']);
    expect(events.filter((e) => e.vm === 'b' && e.phase === 'starting').length).toBe(1);
    // b only started once a was ready.
    const aReady = events.findIndex((e) => e.vm === 'a' && e.phase === 'ready');
    expect(events.findIndex((e) => e.vm === 'b' && e.phase === 'starting')).toBeGreaterThan(aReady);

    const status = await labStatus(engine, 'one');
    expect(status.vms.map((v) => [v.vmName, v.state])).toEqual([
      ['one-a', 'running'],
      ['one-b', 'running'],
    ]);
    expect(status.switch?.segments).toEqual([{ name: 'lan', ports: 2 }]);
    expect(status.baseline).not.toBeNull();
    expect(planLab(engine, { text: ONE, sourceFile: null }).plan.map((p) => p.action)).toEqual([
      'keep',
      'keep',
    ]);

    b = await console('one-b');
    const bIp = status.vms[1]!.addresses[0]!.ip;
    // The static lease: b's lab NIC (eth1) has the address the lab file gave it.
    const addr = await b.run('ip -4 -o addr show eth1');
    expect(addr.output).toContain(`${bIp}/24`);
    expect((await b.run('cat /etc/resolv.conf')).output).toMatch(
      /search one\.internal\nnameserver 10\.77\.0\.1/,
    );
  }, 600_000);

  it('lets guests reach each other by DNS name over ICMP and TCP, and keeps NAT out', async () => {
    const ping = await b.run('ping -c 2 -W 3 a.one.internal');
    expect(ping.status).toBe(0);
    expect(ping.output).toContain('10.77.0.20');
    const http = await b.run("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc a.one.internal 80");
    expect(http.status).toBe(0);
    expect(http.output).toContain('hangar-guest-http-ok');
    expect((await b.run('nslookup nobody.one.internal 10.77.0.1')).status).not.toBe(0);
    // The user-mode NIC still reaches the host (10.0.2.2 is the host in QEMU's NAT).
    const out = await b.run(`printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 10.0.2.2 ${webPort}`);
    expect(out.status).toBe(0);
    expect(out.output).toContain('hello from the host');
    // And the lab file's forward reaches a's web server from the host.
    expect(await (await fetch('http://127.0.0.1:18480/')).text()).toContain('hangar-guest-http-ok');
  }, 120_000);

  it("writes a capture of the segment that holds the guests' traffic", async () => {
    const file = join(t.files, 'lan.pcap');
    await labCapture(engine, 'one', 'lan', file);
    expect((await b.run('ping -c 3 -W 3 10.77.0.20')).status).toBe(0);
    const r = (await labCapture(engine, 'one', 'lan', null)) as { frames: number };
    const bytes = readFileSync(file);
    expect(bytes.readUInt32LE(0)).toBe(0xa1b2c3d4);
    let icmp = 0;
    for (let at = 24; at + 16 <= bytes.length; at += 16 + bytes.readUInt32LE(at + 8)) {
      const f = bytes.subarray(at + 16, at + 16 + bytes.readUInt32LE(at + 8));
      if (f.readUInt16BE(12) === 0x0800 && f[23] === 1) icmp++;
    }
    expect(icmp).toBeGreaterThanOrEqual(6); // three requests, three replies
    expect(r.frames).toBeGreaterThanOrEqual(icmp);
  }, 60_000);

  it('keeps a second lab with the same subnet apart', async () => {
    await labUp(engine, { text: LAB('two'), sourceFile: null });
    const c = await console('two-a');
    // Same address as one's a, on its own segment: one's b is not there, and no name of lab one.
    expect((await c.run('ping -c 2 -W 2 10.77.0.10')).status).not.toBe(0);
    expect((await c.run('nslookup b.one.internal 10.77.0.1')).status).not.toBe(0);
    expect((await b.run('ping -c 2 -W 3 a.one.internal')).status).toBe(0);
    await labDestroy(engine, 'two');
  }, 300_000);

  it('resets the whole lab to its RAM baseline without a reboot', async () => {
    const id = engine.resolve('one-b').id;
    const pid = new Map(engine.runningPids()).get(id);
    const boots = () => readFileSync(engine.paths(id).serialLog, 'utf8').split('HANGAR-GUEST-READY').length;
    const before = boots();
    await b.run('echo changed > /tmp/marker');
    const { ms } = await labReset(engine, 'one');
    expect(ms).toBeGreaterThan(0);
    const after = await b.run('cat /tmp/marker');
    expect(after.output).toContain('No such file');
    // The same QEMU, and no boot since: the guest's memory was loaded, not booted again.
    expect(new Map(engine.runningPids()).get(id)).toBe(pid);
    expect(boots()).toBe(before);
    expect((await labStatus(engine, 'one')).vms.map((v) => v.state)).toEqual(['running', 'running']);
    expect((await b.run('ping -c 2 -W 3 a.one.internal')).status).toBe(0);
  }, 120_000);

  it('reconnects every VM when the switch is killed and started again', async () => {
    const paths = labPaths(t.home, 'one', t.env);
    const pid = switchPid(paths)!;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && switchPid(paths) !== null; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await b.run('ping -c 1 -W 2 10.77.0.20')).status).not.toBe(0);
    // The next up finds the VMs running and starts the switch alone; it connects to each NIC.
    await labUp(engine, { text: ONE, sourceFile: null });
    expect(switchPid(paths)).not.toBe(pid);
    expect((await labStatus(engine, 'one')).switch?.segments).toEqual([{ name: 'lan', ports: 2 }]);
    expect((await b.run('ping -c 2 -W 3 a.one.internal')).status).toBe(0);
  }, 120_000);

  it('goes down saving RAM, and comes back up where it was', async () => {
    const boot = (await b.run('cat /proc/sys/kernel/random/boot_id')).output;
    await b.run('echo kept > /tmp/saved');
    await labDown(engine, 'one');
    expect((await labStatus(engine, 'one')).vms.map((v) => v.state)).toEqual(['stopped', 'stopped']);
    // A second down finds nothing running and keeps the saved lab to resume.
    await labDown(engine, 'one');
    expect((await labStatus(engine, 'one')).saved).not.toBeNull();
    expect(switchPid(labPaths(t.home, 'one', t.env))).toBeNull();
    b.close();

    const events: LabEvent[] = [];
    await labUp(engine, { text: ONE, sourceFile: null }, { onEvent: (e) => events.push(e) });
    expect(events.some((e) => e.phase === 'resuming')).toBe(true);
    expect(events.some((e) => e.phase === 'starting' && e.vm !== null)).toBe(false);
    const s = await console('one-b');
    const r = await s.run(
      'cat /proc/sys/kernel/random/boot_id; cat /tmp/saved; ping -c 2 -W 3 a.one.internal >/dev/null && echo net-ok',
    );
    expect(r.output).toContain(boot);
    expect(r.output).toContain('kept');
    expect(r.output).toContain('net-ok');
    b = s;
  }, 300_000);

  it('destroys what the lab made, and only that', async () => {
    const ids = Object.values(loadLabState(t.home, 'one')!.vms).map((v) => v.id);
    const { deleted } = await labDestroy(engine, 'one');
    expect(deleted.sort()).toEqual(['one-a', 'one-b']);
    for (const id of ids) expect(existsSync(engine.paths(id).vmDir)).toBe(false);
    expect(engine.resolve('tiny').template).toBe(true);
    expect(existsSync(join(t.home, 'labs', 'one'))).toBe(false);
    expect(switchPid(labPaths(t.home, 'one', t.env))).toBeNull();
    await expect(labStatus(engine, 'one')).rejects.toThrow(/No lab "one"/);
  }, 120_000);
});
