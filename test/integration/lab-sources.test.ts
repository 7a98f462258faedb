// Where lab VMs come from besides templates, with the real parts: an installer ISO (the tiny
// guest's, booted through GRUB onto a new blank disk), a VM the user already has (borrowed, and
// given back as it was), extra blank disks; and the verbs around the baseline (wait, baseline).
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import { labUp, planLab } from '../../src/main/engine/labs/up';
import {
  labBaseline,
  labCapture,
  labDestroy,
  labDown,
  labReset,
  labStatus,
  labWait,
} from '../../src/main/engine/labs/lifecycle';
import { loadLabState } from '../../src/main/engine/labs/state';
import { setTemplate } from '../../src/main/engine/rollback/templates';
import { labPaths } from '../../src/main/engine/config/paths';
import { switchPid } from '../../src/main/engine/network/switch/process';
import type { LabEvent } from '../../src/shared/lab/status';
import type { VmConfig } from '../../src/shared/vm';
import { SerialConsole } from '../../src/main/engine/consoles/serial';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, promptOf } from '../support/vms';
import { guest } from '../support/guest';
import { requireBuild } from '../support/cli';

const t = tempHome('hangar-labsrc-');
let engine: Engine;
let mine: VmConfig;
const consoles: SerialConsole[] = [];

const FILE = (disks: string) => `version: 1
name: src
networks:
  lan: { subnet: 10.79.0.0/24 }
vms:
  own:
    vm: mine
    nics: [{ network: lan, ip: 10.79.0.40 }]
    ready: ['serial:HANGAR-GUEST-READY']
  inst:
    iso: ${guest().iso}
    memory: 256M
${disks}    nics: [{ network: lan }]
    ready: ['serial:HANGAR-GUEST-READY']
  clone:
    template: tiny
    memory: 256M
    nics: [{ network: lan }]
    ready: ['serial:HANGAR-GUEST-READY']
`;
const TWO_DISKS = FILE('    disks: [{ size: 32M }, { size: 48M }]\n');
const ONE_DISK = FILE('    disks: [{ size: 32M }]\n');

async function shellOf(name: string): Promise<SerialConsole> {
  const s = await promptOf(engine, name);
  consoles.push(s);
  return s;
}

beforeAll(async () => {
  requireBuild();
  engine = await openEngine(t);
  const tiny = await makeGuestVm(engine, 'tiny', { memoryMiB: 256 });
  await setTemplate(engine, tiny.id, true);
  mine = await makeGuestVm(engine, 'mine', {
    memoryMiB: 256,
    network: {
      portForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 18490, guestPort: 80 }],
    },
  });
}, 120_000);

afterAll(async () => {
  consoles.forEach((c) => c.close());
  const pid = switchPid(labPaths(t.home, 'src', t.env));
  if (pid) process.kill(pid, 'SIGKILL');
  if (engine) await closeEngine(engine, t);
});

describe('lab VMs from an ISO, a VM of the user and a template', () => {
  it('plans to borrow the existing VM, and refuses what would change it', () => {
    const { plan } = planLab(engine, { text: TWO_DISKS, sourceFile: null });
    expect(plan.map((p) => [p.vm, p.action, p.vmName])).toEqual([
      ['own', 'change', 'mine'],
      ['inst', 'create', 'src-inst'],
      ['clone', 'create', 'src-clone'],
    ]);
    const sized = TWO_DISKS.replace('    vm: mine\n', '    vm: mine\n    memory: 2G\n');
    expect(() => planLab(engine, { text: sized, sourceFile: null })).toThrow(/memory.*used as it is/);
    const twice = TWO_DISKS.replace('    template: tiny\n', '    vm: mine\n');
    expect(() => planLab(engine, { text: twice, sourceFile: null })).toThrow(/in one place at a time/);
  });

  it('comes up: the ISO on a new disk with its extra disks, the borrowed VM with the lab NIC beside its own', async () => {
    const events: LabEvent[] = [];
    await labUp(engine, { text: TWO_DISKS, sourceFile: null }, { onEvent: (e) => events.push(e) });
    const inst = engine.resolve('src-inst');
    // The wizard's blank disk, then the two the file asks for.
    expect(inst.disks.filter((d) => d.owned && !d.readOnly).length).toBe(3);
    expect(inst.cdroms.length).toBe(1);
    const own = engine.resolve('mine');
    expect(own.id).toBe(mine.id);
    expect(own.memoryMiB).toBe(mine.memoryMiB);
    expect(own.nics.map((n) => n.mode)).toEqual(['user', 'lab']);
    expect(own.nics[0]!.portForwards).toEqual(mine.nics[0]!.portForwards);

    const s = await labStatus(engine, 'src');
    expect(s.vms.map((v) => [v.vm, v.vmName, v.borrowed, v.state])).toEqual([
      ['own', 'mine', true, 'running'],
      ['inst', 'src-inst', false, 'running'],
      ['clone', 'src-clone', false, 'running'],
    ]);
    const sh = await shellOf('src-inst');
    // Booted from the ISO (GRUB), with the blank disk and the two extra ones as virtio disks.
    const blocks = await sh.run('ls /sys/block');
    expect(blocks.output).toMatch(/vda[\s\S]*vdb[\s\S]*vdc/);
    expect((await sh.run('ping -c 2 -W 3 own.src.internal')).status).toBe(0);
    expect((await sh.run('ping -c 2 -W 3 clone.src.internal')).status).toBe(0);
  }, 300_000);

  it('keeps a disk the file no longer lists, and says so', async () => {
    const events: LabEvent[] = [];
    await expect(
      labUp(engine, { text: ONE_DISK, sourceFile: null }, { onEvent: (e) => events.push(e) }),
    ).rejects.toThrow(/stop/i);
    const inst = engine.resolve('src-inst');
    await engine.stop(inst.id, { force: true });
    await labUp(engine, { text: ONE_DISK, sourceFile: null }, { onEvent: (e) => events.push(e) });
    expect(engine.resolve('src-inst').disks.filter((d) => d.owned && !d.readOnly).length).toBe(3);
    expect(events.some((e) => e.vm === 'inst' && /kept disk\d/.test(e.detail))).toBe(true);
  }, 300_000);

  it('waits for readiness, takes a baseline on demand and resets to it', async () => {
    const s = await labWait(engine, 'src', 120_000).then(() => labStatus(engine, 'src'));
    expect(s.vms.every((v) => v.state === 'running')).toBe(true);
    await labBaseline(engine, 'src');
    const first = loadLabState(t.home, 'src')!.baseline!;
    expect(Object.keys(first.snapshots).length).toBe(3);
    // A second baseline replaces the first: its snapshots go.
    await labBaseline(engine, 'src');
    const second = loadLabState(t.home, 'src')!.baseline!;
    const ownSnaps = engine.store.load(mine.id).snapshots.map((x) => x.id);
    expect(ownSnaps).toContain(second.snapshots[mine.id]);
    expect(ownSnaps).not.toContain(first.snapshots[mine.id]);

    const sh = await shellOf('mine');
    await sh.run('echo changed > /tmp/marker');
    await labReset(engine, 'src');
    expect((await sh.run('cat /tmp/marker')).output).toContain('No such file');
  }, 300_000);

  it('resets a lab that is down with its switch, and retires the baseline when the file changes', async () => {
    await labDown(engine, 'src');
    expect(switchPid(labPaths(t.home, 'src', t.env))).toBeNull();
    await labReset(engine, 'src');
    // The switch came back with the VMs: they talk again.
    expect(switchPid(labPaths(t.home, 'src', t.env))).not.toBeNull();
    const sh = await shellOf('mine');
    expect((await sh.run('ping -c 2 -W 3 clone.src.internal')).status).toBe(0);

    await labDown(engine, 'src', { shutdown: true });
    const events: LabEvent[] = [];
    const bigger = ONE_DISK.replace('template: tiny\n    memory: 256M', 'template: tiny\n    memory: 320M');
    expect(bigger).not.toBe(ONE_DISK);
    await labUp(engine, { text: bigger, sourceFile: null }, { onEvent: (e) => events.push(e) });
    expect(events.some((e) => e.phase === 'baseline' && /retired \(clone changed\)/.test(e.detail))).toBe(
      true,
    );
    expect(loadLabState(t.home, 'src')!.baseline).toBeNull();
    expect(engine.resolve('src-clone').memoryMiB).toBe(320);
  }, 300_000);

  it('destroys what it made and gives the borrowed VM back as it was', async () => {
    const made = ['src-inst', 'src-clone'].map((n) => engine.resolve(n).id);
    const { deleted } = await labDestroy(engine, 'src');
    expect(deleted.sort()).toEqual(['src-clone', 'src-inst']);
    for (const id of made) expect(existsSync(engine.paths(id).vmDir)).toBe(false);
    const back = engine.resolve('mine');
    expect(back.nics).toEqual(mine.nics);
    expect(engine.isStopped(back.id)).toBe(true);
    expect(back.snapshots).toEqual([]);
    // Still the user's, and still boots.
    await engine.start(back.id);
    const sh = await shellOf('mine');
    expect((await sh.run('echo alive')).output).toContain('alive');

    // Running now: a lab may not take it over (down would save and power it off), and records nothing.
    await expect(labUp(engine, { text: ONE_DISK, sourceFile: null })).rejects.toThrow(/join lab "src"/);
    expect(loadLabState(t.home, 'src')?.vms.own).toBeUndefined();
    expect(engine.runtime(back.id).state).toBe('running');
    await labDestroy(engine, 'src');
    expect(engine.runtime(back.id).state).toBe('running');
  }, 300_000);
});

describe('a lab where no switch can run', () => {
  const MC = `version: 1
name: mc
networks:
  lan: { subnet: 10.81.0.0/24 }
vms:
  a: { template: tiny, memory: 256M, nics: [{ network: lan, ip: 10.81.0.20 }], ready: ['serial:HANGAR-GUEST-READY'] }
  b: { template: tiny, memory: 256M, nics: [{ network: lan, ip: 10.81.0.21 }], ready: ['serial:HANGAR-GUEST-READY'] }
`;

  it('falls back to multicast on 127.0.0.1, says the network is not isolated, and its VMs still talk', async () => {
    const events: LabEvent[] = [];
    await labUp(
      engine,
      { text: MC, sourceFile: null },
      { switchScript: '/nonexistent/switch.js', onEvent: (e) => events.push(e) },
    );
    expect(events.some((e) => /fall back to multicast .*NOT ISOLATED/.test(e.detail))).toBe(true);
    const s = await labStatus(engine, 'mc');
    expect(s.switch).toBeNull();
    expect(s.networks[0]).toMatchObject({ name: 'lan', isolated: false });
    expect(s.networks[0]!.multicast!.group).toMatch(/^239\./);
    const nic = engine.resolve('mc-a').nics.find((n) => n.mode === 'lab')!;
    expect(nic.segment!.mcast).toEqual(s.networks[0]!.multicast);
    await expect(labCapture(engine, 'mc', 'lan', '/tmp/x.pcap')).rejects.toThrow(/tcpdump -i lo/);

    // No DHCP on the group: the addresses the file gives are set by hand in the tiny guest.
    const a = await shellOf('mc-a');
    const b = await shellOf('mc-b');
    await a.run('ip addr add 10.81.0.20/24 dev eth1; ip link set eth1 up');
    await b.run('ip addr add 10.81.0.21/24 dev eth1; ip link set eth1 up');
    expect((await a.run('ping -c 3 -W 3 10.81.0.21')).status).toBe(0);

    // The fallback is the lab's for its life: the next up keeps it and starts no switch.
    await labUp(engine, { text: MC, sourceFile: null }, { switchScript: '/nonexistent/switch.js' });
    expect((await labStatus(engine, 'mc')).networks[0]!.multicast).toEqual(s.networks[0]!.multicast);
    const { deleted } = await labDestroy(engine, 'mc');
    expect(deleted.sort()).toEqual(['mc-a', 'mc-b']);
  }, 300_000);
});
