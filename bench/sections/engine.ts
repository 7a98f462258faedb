// The engine flat in the number of VMs (issue 11), in-process on src/: opening an engine with
// 1,000 VMs defined against 10, finding a VM by name among them, deleting a VM beside 100 linked
// clones of another template against beside 1, and what the graphs' sampling (the stats sampler
// and the readiness watch) costs with 8 running VMs.
import { Engine } from '../../src/main/engine/engine';
import { deleteVm } from '../../src/main/engine/vms/manage';
import { linkedClone, setTemplate } from '../../src/main/engine/rollback/templates';
import { statsOf } from '../../src/main/engine/stats/sampler';
import { readinessOf } from '../../src/main/engine/ready/watch';
import { defineVms } from '../lib/define';
import { makeVm, openEngine, waitReady } from '../lib/hangar';
import { now, reps, sleep, step, tempHome, type Home } from '../lib/env';
import { row, type Row } from '../lib/stats';

/** Engine.open (lock, recovery, adoption), and then its first list() (every vm.json parsed). */
async function openTimes(h: Home): Promise<{ open: number; list: number }> {
  const t0 = now();
  const engine = await Engine.open({ home: h.home, env: h.env });
  const t1 = now();
  engine.list();
  const t2 = now();
  await engine.close();
  return { open: t1 - t0, list: t2 - t1 };
}

async function startup(): Promise<Row[]> {
  const small = tempHome('engine10');
  const large = tempHome('engine1000');
  await defineVms(small.home, small.env, 10);
  await defineVms(large.home, large.env, 1000);
  await openTimes(small); // warm-up: module loading, the probe cache
  await openTimes(large);
  const s: { open: number; list: number }[] = [];
  const l: { open: number; list: number }[] = [];
  for (let i = 0; i < reps(7, 3); i++) {
    // Sides alternate who goes first, so a slow drift of the machine hits both.
    const order = i % 2 ? [small, large] : [large, small];
    for (const h of order) (h === small ? s : l).push(await openTimes(h));
  }
  // Names: one open engine, 200 lookups of different names in the 1,000 and in the 10.
  const lookups = async (h: Home, count: number) => {
    const engine = await Engine.open({ home: h.home, env: h.env });
    const names = Array.from({ length: 200 }, (_, k) => `vm-${String(k % count).padStart(4, '0')}`);
    const out: number[] = [];
    for (const name of names) {
      const t0 = now();
      engine.resolve(name);
      out.push(now() - t0);
    }
    await engine.close();
    return out;
  };
  const byName = [await lookups(small, 10), await lookups(large, 1000)];
  return [
    row({
      section: 'engine',
      figure: 'engine start (Engine.open: lock, recovery, adoption), 1000 VMs defined',
      unit: 'ms',
      hangar: l.map((x) => x.open),
      baseline: s.map((x) => x.open),
      baselineLabel: 'the same with 10 VMs defined',
      paired: true,
      target: '≤ 2',
    }),
    row({
      section: 'engine',
      figure: 'first VM list after the start (every vm.json parsed once), 1000 VMs',
      unit: 'ms',
      hangar: l.map((x) => x.list),
      baseline: s.map((x) => x.list),
      baselineLabel: 'the same with 10 VMs',
      paired: true,
      note: 'grows with the number of VMs by nature; printed so the start figure hides nothing',
    }),
    row({
      section: 'engine',
      figure: 'find a VM by name, 1000 VMs defined',
      unit: 'ms',
      hangar: byName[1]!,
      baseline: byName[0]!,
      baselineLabel: 'the same among 10',
      note: 'one stat per vm.json (changed files are parsed again), no parse',
    }),
  ];
}

/** A home with a template holding a small disk and `clones` linked clones of it. */
async function withClones(tag: string, clones: number): Promise<{ engine: Engine }> {
  const h = tempHome(tag);
  const engine = await openEngine(h);
  const tpl = await makeVm(engine, 'bench-template', 128, '64M');
  await setTemplate(engine, tpl.id, true);
  for (let i = 0; i < clones; i++) await linkedClone(engine, tpl.id, `bench-clone-${i}`);
  return { engine };
}

async function deletes(): Promise<Row[]> {
  step('100 linked clones');
  const one = await withClones('del1', 1);
  const hundred = await withClones('del100', 100);
  const time = async (engine: Engine, i: number) => {
    const vm = await makeVm(engine, `bench-victim-${i}`, 128, '64M');
    const t0 = now();
    await deleteVm(engine, vm.id);
    return now() - t0;
  };
  await time(one.engine, 0);
  await time(hundred.engine, 0);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 1; i <= reps(15, 5); i++) {
    const order = i % 2 ? [one, hundred] : [hundred, one];
    for (const side of order) (side === one ? a : b).push(await time(side.engine, i));
  }
  return [
    row({
      section: 'engine',
      figure: 'delete a VM (64 MiB disk) beside 100 linked clones of a template',
      unit: 'ms',
      hangar: b,
      baseline: a,
      baselineLabel: 'the same delete beside 1 linked clone',
      paired: true,
      target: '≤ 1.2',
    }),
  ];
}

const VMS = 8;
const WINDOW_S = 5;

/** This process's CPU (% of one core) in 5 s windows: the engine runs here and nothing else does. */
async function cpuWindows(count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const c0 = process.cpuUsage();
    const t0 = now();
    await sleep(WINDOW_S * 1000);
    const c = process.cpuUsage(c0);
    out.push(((c.user + c.system) / 1000 / (now() - t0)) * 100);
  }
  return out;
}

async function sampling(): Promise<Row[]> {
  const h = tempHome('sampling');
  const engine = await openEngine(h);
  const vms = [];
  for (let i = 0; i < VMS; i++) vms.push(await makeVm(engine, `bench-sample-${i}`, 128, null));
  step(`${VMS} guests booting`);
  await Promise.all(vms.map((vm) => engine.start(vm.id)));
  await Promise.all(vms.map((vm) => waitReady(engine.paths(vm.id).serialSocket, 300_000)));
  await sleep(3000);
  const windows = reps(4, 2);
  const off = await cpuWindows(windows);
  statsOf(engine).enable();
  readinessOf(engine).enable();
  await sleep(3000); // the first samples, the first readiness answers
  const on = await cpuWindows(windows);
  const samples = statsOf(engine).history(vms[0]!.id).length;
  if (samples === 0) throw new Error('the sampler took no sample of a running VM');
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  return [
    row({
      section: 'engine',
      figure: `engine CPU with ${VMS} running VMs, graphs sampled every second`,
      unit: '% core',
      hangar: on,
      baseline: off,
      baselineLabel: 'the same engine, not sampling',
      target: '< 1% of a core (absolute)',
      note: `sampling adds ${(median(on) - median(off)).toFixed(2)}% of a core; ${samples} samples of one VM kept`,
    }),
  ];
}

export async function run(): Promise<Row[]> {
  step('engine start with 10 and 1000 VMs');
  const rows = await startup();
  rows.push(...(await deletes()));
  rows.push(...(await sampling()));
  return rows;
}
