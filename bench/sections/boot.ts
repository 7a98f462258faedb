// Boot overhead: engine.start() to the guest's ready marker on serial, against spawning the very
// argv Hangar builds by hand and reading the serial socket directly. Same argv on both sides, so
// the ratio isolates what Hangar adds (preflight, detached spawn, QMP attach), not argv choices.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { buildArgv } from '../../src/main/engine/qemu/argv';
import { ensureRuntimeDir } from '../../src/main/engine/config/paths';
import { now, reps, tempHome } from '../lib/env';
import { makeVm, openEngine, waitReady } from '../lib/hangar';
import { row, type Row } from '../lib/stats';

export async function run(): Promise<Row[]> {
  const h = tempHome('boot');
  const engine = await openEngine(h);
  const vm = await makeVm(engine, 'bench-boot', 256, '64M');
  const paths = engine.paths(vm.id);

  const hangarBoot = async (): Promise<number> => {
    const t0 = now();
    await engine.start(vm.id);
    const t = (await waitReady(paths.serialSocket)) - t0;
    await engine.stop(vm.id, { force: true });
    return t;
  };

  const rawBoot = async (): Promise<number> => {
    ensureRuntimeDir(paths);
    for (const f of [paths.serialSocket, paths.qmpSocket, paths.vncSocket, paths.pidFile])
      rmSync(f, { force: true });
    const argv = buildArgv(vm, engine.host, paths);
    const t0 = now();
    const child = spawn(engine.host.qemu.path, argv, { stdio: 'ignore' });
    const exited = once(child, 'exit');
    try {
      return (await waitReady(paths.serialSocket)) - t0;
    } finally {
      child.kill('SIGKILL');
      await exited;
      for (const f of [paths.serialSocket, paths.qmpSocket, paths.vncSocket, paths.pidFile])
        rmSync(f, { force: true });
    }
  };

  // Unmeasured: the first boot formats the blank disk, and both sides warm the page cache.
  await hangarBoot();
  await rawBoot();
  const hangar: number[] = [];
  const raw: number[] = [];
  const n = reps(6, 3);
  for (let i = 0; i < n; i++) {
    // Alternating who goes first spreads slow drifts of the machine over both sides.
    if (i % 2) {
      raw.push(await rawBoot());
      hangar.push(await hangarBoot());
    } else {
      hangar.push(await hangarBoot());
      raw.push(await rawBoot());
    }
  }
  return [
    row({
      section: 'boot',
      figure: 'start to ready marker (direct kernel boot, 256 MiB, TCG)',
      unit: 'ms',
      hangar,
      baseline: raw,
      baselineLabel: 'same argv spawned by hand',
      paired: true,
      target: '≤ 1.03',
    }),
  ];
}
