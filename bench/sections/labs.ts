// Labs (issue 13): 5 VMs of 3 kinds of guest, each a linked clone of a template, on one lab
// network: Debian 12 and Debian 13 (the project's images, booted without a cloud-init seed, so
// both sides boot the same way every round) to their serial login prompt, and the tiny test guest
// booted three ways (direct kernel, BIOS and UEFI from its ISO) to its ready marker.
// - up from nothing until all 5 are ready, against raw QEMU spawning the same 5 argvs in
//   parallel and waiting for the same serial lines (Hangar's side includes making the clones
//   and starting the switch);
// - reset of the 5 running VMs to the lab's RAM baseline, against the same snapshot-load jobs
//   sent over the engine's own QMP connections, all VMs paused first and resumed after;
// - up of the saved lab (after `lab down`) until all 5 run again, against raw QEMU starting the
//   same argvs started paused, loading the same snapshots over QMP and continuing;
// - the memory of the engine (the bench process, which holds it) and of the switch with the 5
//   VMs running.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import type { Engine } from '../../src/main/engine/engine';
import { labUp } from '../../src/main/engine/labs/up';
import { labDestroy, labDown, labReset } from '../../src/main/engine/labs/lifecycle';
import { loadLabState } from '../../src/main/engine/labs/state';
import { takeBaseline } from '../../src/main/engine/labs/rollback';
import { saveLabState } from '../../src/main/engine/labs/state';
import { setTemplate } from '../../src/main/engine/rollback/templates';
import { buildArgv } from '../../src/main/engine/qemu/argv';
import { images } from '../../src/main/engine/snapshots';
import { runJob } from '../../src/main/engine/jobs';
import { labPaths } from '../../src/main/engine/config/paths';
import { switchPid } from '../../src/main/engine/network/switch/process';
import { createVm } from '../../src/main/engine/vms/create';
import { CreateVmRequest } from '../../src/shared/requests';
import { guest, now, reps, rssKiB, step, tempHome } from '../lib/env';
import { makeVm, openEngine, waitReady } from '../lib/hangar';
import { RawQmp } from '../lib/raw';
import { row, type Row } from '../lib/stats';
import { guestDir, root } from '../lib/env';
import { join } from 'node:path';

/** Debian's getty on the serial console: the same line for the lab's check and the raw wait. */
const DEBIAN_READY = 'login:';

const KINDS: [vm: string, template: string, marker: 'tiny' | 'debian'][] = [
  ['deb12', 'debian12', 'debian'],
  ['deb13', 'debian13', 'debian'],
  ['direct', 'tiny', 'tiny'],
  ['bios', 'tiny-bios', 'tiny'],
  ['uefi', 'tiny-uefi', 'tiny'],
];

const LAB = (tinyMarker: string) => `version: 1
name: bench
networks:
  lan: { subnet: 10.99.0.0/24 }
vms:
${KINDS.map(
  ([vm, tpl, kind]) =>
    `  ${vm}:\n    template: ${tpl}\n    memory: ${kind === 'debian' ? '512M' : '256M'}\n    nics: [{ network: lan }]\n` +
    `    ready: ['serial:${kind === 'debian' ? DEBIAN_READY : tinyMarker}']\n`,
).join('')}`;

/** A template from a Debian image (an owned copy), with no cloud-init seed. */
async function debianTemplate(engine: Engine, name: string, release: 'bookworm' | 'trixie') {
  execFileSync('bash', [join(root, 'scripts', 'guest', 'debian', 'build.sh'), release], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const vm = await createVm(
    CreateVmRequest.parse({
      name,
      cpus: 1,
      memoryMiB: 512,
      firmware: 'bios',
      disk: { kind: 'existing', path: join(guestDir, `debian-${release}`, 'disk.qcow2'), copy: true },
    }),
    { store: engine.store, host: engine.host, img: engine.img, policy: engine.policy },
  );
  await setTemplate(engine, vm.id, true);
}

const switchScript = `${root}out/main/switch.js`;

async function isoTemplate(engine: Engine, name: string, firmware: 'bios' | 'uefi') {
  const vm = await createVm(
    CreateVmRequest.parse({
      name,
      cpus: 1,
      memoryMiB: 256,
      firmware,
      disk: { kind: 'new', size: '16M' },
      iso: join(guestDir, 'hangar-test.iso'),
      bootOrder: ['cdrom', 'disk'],
    }),
    { store: engine.store, host: engine.host, img: engine.img, policy: engine.policy },
  );
  await setTemplate(engine, vm.id, true);
}

/** The serial line that says a lab VM is ready, by the template it was cloned from. */
function markerOf(engine: Engine, id: string, tinyMarker: string): string {
  const name = engine.store.load(id).name;
  return name.startsWith('bench-deb') ? DEBIAN_READY : tinyMarker;
}

function labIds(engine: Engine): string[] {
  return Object.values(loadLabState(engine.home, 'bench')!.vms).map((v) => v.id);
}

async function stopAll(engine: Engine, ids: string[]) {
  await Promise.all(ids.map((id) => (engine.isStopped(id) ? undefined : engine.stop(id, { force: true }))));
}

/** The lab's 5 argvs spawned by hand in parallel (extra appended), until each is ready. */
async function rawParallel(
  engine: Engine,
  ids: string[],
  extra: (id: string) => string[],
  readyOf: (id: string) => Promise<unknown>,
): Promise<number> {
  const children: ChildProcess[] = [];
  const stderr = new Map<string, string>();
  const t0 = now();
  try {
    for (const id of ids) {
      const paths = engine.paths(id);
      for (const f of [paths.serialSocket, paths.qmpSocket, paths.vncSocket, paths.pidFile])
        rmSync(f, { force: true });
      const argv = [...buildArgv(engine.store.load(id), engine.host, paths), ...extra(id)];
      const child = spawn(engine.host.qemu.path, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (d: Buffer) => stderr.set(id, (stderr.get(id) ?? '') + d.toString()));
      children.push(child);
    }
    await Promise.all(
      ids.map((id) =>
        readyOf(id).catch((err: unknown) => {
          const why = (stderr.get(id) ?? '').slice(-400);
          throw new Error(`raw QEMU for ${engine.store.load(id).name}: ${(err as Error).message} ${why}`);
        }),
      ),
    );
    return now() - t0;
  } finally {
    const exits = children.map((c) => once(c, 'exit'));
    children.forEach((c) => c.kill('SIGKILL'));
    await Promise.all(exits);
  }
}

export async function run(): Promise<Row[]> {
  const h = tempHome('labs');
  const engine = await openEngine(h);
  const marker = guest().readyMarker;
  const tiny = await makeVm(engine, 'tiny', 256, '16M');
  await setTemplate(engine, tiny.id, true);
  await isoTemplate(engine, 'tiny-bios', 'bios');
  await isoTemplate(engine, 'tiny-uefi', 'uefi');
  await debianTemplate(engine, 'debian12', 'bookworm');
  await debianTemplate(engine, 'debian13', 'trixie');
  const text = LAB(marker);
  const src = { text, sourceFile: null };

  const upHangar: number[] = [];
  const upRaw: number[] = [];
  // Two Debian boots per round under TCG make a round minutes long: two measured rounds, after
  // one that warms the page cache (not measured).
  const n = reps(2, 1);
  for (let i = 0; i <= n; i++) {
    step(`lab up ${i}/${n}`);
    const t0 = now();
    await labUp(engine, src, { switchScript, parallel: 5, readyTimeoutMs: 600_000 });
    const t = now() - t0;
    const ids = labIds(engine);
    await stopAll(engine, ids);
    const r = await rawParallel(
      engine,
      ids,
      () => [],
      (id) => waitReady(engine.paths(id).serialSocket, 600_000, markerOf(engine, id, marker)),
    );
    if (i > 0) {
      // The first round warms the page cache and formats nothing: not measured.
      upHangar.push(t);
      upRaw.push(r);
    }
    if (i < n) await labDestroy(engine, 'bench');
  }

  // The lab is made; start it, take the RAM baseline, and reset.
  step('lab baseline');
  await labUp(engine, src, { switchScript, parallel: 5, readyTimeoutMs: 600_000 });
  const ids = labIds(engine);
  const state = loadLabState(engine.home, 'bench')!;
  state.baseline = await takeBaseline(engine, ids);
  saveLabState(engine.home, state);
  const switchRss = rssKiB(switchPid(labPaths(engine.home, 'bench', engine.env))!) / 1024;
  const engineRss = process.memoryUsage().rss / 1024 / 1024;
  const resetHangar: number[] = [];
  const resetRaw: number[] = [];
  for (let i = 0; i <= reps(7, 2); i++) {
    const tH = now();
    await labReset(engine, 'bench');
    const dH = now() - tH;
    const tR = now();
    await Promise.all(ids.map((id) => engine.qmp(id).execute('stop')));
    await Promise.all(
      ids.map((id) => {
        const config = engine.store.load(id);
        const tag = config.snapshots.find((s) => s.id === state.baseline!.snapshots[id])!.tag;
        const imgs = images(engine, config);
        return runJob(
          engine.qmp(id),
          'snapshot-load',
          { tag, vmstate: imgs[0]!.node, devices: imgs.map((x) => x.node) },
          () => undefined,
        );
      }),
    );
    await Promise.all(ids.map((id) => engine.qmp(id).execute('cont')));
    const dR = now() - tR;
    if (i > 0) {
      resetHangar.push(dH);
      resetRaw.push(dR);
    }
  }

  step('lab down and up from the saved state');
  const savedHangar: number[] = [];
  const savedRaw: number[] = [];
  for (let i = 0; i < reps(3, 1); i++) {
    await labDown(engine, 'bench');
    const saved = loadLabState(engine.home, 'bench')!.saved!;
    const tags = new Map(
      ids.map((id) => [id, engine.store.load(id).snapshots.find((s) => s.id === saved.snapshots[id])!.tag]),
    );
    // By hand as a script would: each QEMU started paused, the same snapshot-load job (naming
    // the disk that holds the memory: -loadvm would look for it in the UEFI variables first),
    // then cont.
    const raw = await rawParallel(
      engine,
      ids,
      () => ['-S'],
      async (id) => {
        const q = await RawQmp.open(engine.paths(id).qmpSocket);
        try {
          const imgs = images(engine, engine.store.load(id));
          await q.job('snapshot-load', {
            tag: tags.get(id)!,
            vmstate: imgs[0]!.node,
            devices: imgs.map((x) => x.node),
          });
          await q.execute('cont');
        } finally {
          q.close();
        }
      },
    );
    const t0 = now();
    await labUp(engine, src, { switchScript, parallel: 5, readyTimeoutMs: 600_000 });
    savedHangar.push(now() - t0);
    savedRaw.push(raw);
  }
  await labDestroy(engine, 'bench');
  await engine.close();
  h.dispose();

  const upTarget = '≤ 1.15';
  return [
    row({
      section: 'labs',
      figure:
        'lab up, 5 VMs (Debian 12, Debian 13, the tiny guest direct, BIOS ISO, UEFI ISO) from templates, until all ready',
      unit: 'ms',
      hangar: upHangar,
      baseline: upRaw,
      baselineLabel: 'the 5 argvs spawned by hand in parallel',
      paired: true,
      target: upTarget,
    }),
    row({
      section: 'labs',
      figure: 'lab reset of 5 running VMs to the RAM baseline',
      unit: 'ms',
      hangar: resetHangar,
      baseline: resetRaw,
      baselineLabel: 'stop, snapshot-load, cont of the 5 over QMP',
      paired: true,
      target: '≤ 1.1',
    }),
    row({
      section: 'labs',
      figure: 'lab up of the saved lab (after lab down), 5 VMs, until all run',
      unit: 'ms',
      hangar: savedHangar,
      baseline: savedRaw,
      baselineLabel: 'the 5 argvs spawned paused, snapshot-load, cont, by hand',
      paired: true,
      target: upTarget,
    }),
    row({
      section: 'labs',
      figure: 'lab switch memory (RSS) with the 5 VMs running',
      unit: 'MiB',
      hangar: [switchRss],
    }),
    row({
      section: 'labs',
      figure: 'engine + switch memory (RSS) with the 5-VM lab running',
      unit: 'MiB',
      hangar: [engineRss + switchRss],
      note: 'the engine is measured as the whole bench process that holds it (an upper bound); QEMU not included',
    }),
  ];
}
