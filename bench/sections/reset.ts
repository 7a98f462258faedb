// Reset-to-baseline (issue 5) for a 1 GiB and a 20 GiB disk, each holding 1 GiB of real data
// written by qemu-io before the baseline is set (an empty sparse base would flatter the figure), through the engine's own
// setBaseline and resetToBaseline (src/main/engine/rollback/baseline.ts).
// Two figures per size: the reset against what a script would do by hand (qemu-img create of a
// fresh overlay over the same base, then rename), and the flatness: 20 GiB against 1 GiB, ideally ≈ 1.
import { execFile } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { Engine } from '../../src/main/engine/engine';
import { resetToBaseline, setBaseline } from '../../src/main/engine/rollback/baseline';
import { now, reps, tempHome } from '../lib/env';
import { makeVm, openEngine } from '../lib/hangar';
import { diskPath } from '../../src/main/engine/qemu/argv';
import { noteRow, row, type Row } from '../lib/stats';

const FIGURES = [
  'reset to baseline, 1 GiB disk holding 1 GiB of data',
  'reset to baseline, 20 GiB disk holding 1 GiB of data',
];

type BaselineFn = (engine: Engine, ref: string) => Promise<unknown>;

async function load(): Promise<{ setBaseline: BaselineFn; resetToBaseline: BaselineFn } | string> {
  return { setBaseline, resetToBaseline };
}

export async function run(): Promise<Row[]> {
  const api = await load();
  if (typeof api === 'string')
    return FIGURES.map((f) => noteRow('snapshots', f, `not available yet (issue 5): ${api}`));
  const h = tempHome('reset');
  const engine = await openEngine(h);
  const hangar: number[][] = [];
  const raw: number[][] = [];
  for (const size of ['1G', '20G']) {
    const vm = await makeVm(engine, `bench-reset-${size}`, 256, size);
    // 1 GiB of data that is not zeros, so every cluster of the base is allocated.
    const disk = vm.disks[0]!;
    await exec('qemu-io', [
      '-f',
      'qcow2',
      '-c',
      'write -q -P 0x5a 0 1G',
      diskPath(vm, disk, engine.paths(vm.id).vmDir),
    ]);
    await api.setBaseline(engine, vm.id);
    const { vmDir } = engine.paths(vm.id);
    const bases =
      (engine.store.load(vm.id) as { baseline?: { bases: Record<string, string> } }).baseline?.bases ?? {};
    const [overlay, base] = Object.entries(bases)[0] ?? [];
    if (!overlay || !base) throw new Error('setBaseline recorded no base image in vm.json');
    const scratch = join(vmDir, 'bench-overlay.qcow2');
    const byHand = async () => {
      rmSync(`${scratch}.new`, { force: true });
      await exec('qemu-img', [
        'create',
        '-q',
        '-f',
        'qcow2',
        '-b',
        join(vmDir, base),
        '-F',
        'qcow2',
        `${scratch}.new`,
      ]);
      renameSync(`${scratch}.new`, scratch);
    };
    const h: number[] = [];
    const r: number[] = [];
    await api.resetToBaseline(engine, vm.id); // warm-up
    await byHand();
    for (let i = 0; i < reps(21, 5); i++) {
      const viaHangar = async () => {
        const t0 = now();
        await api.resetToBaseline(engine, vm.id);
        h.push(now() - t0);
      };
      const viaHand = async () => {
        const t0 = now();
        await byHand();
        r.push(now() - t0);
      };
      if (i % 2) await viaHand().then(viaHangar);
      else await viaHangar().then(viaHand);
    }
    hangar.push(h);
    raw.push(r);
  }
  const base = {
    section: 'snapshots',
    unit: 'ms',
    paired: true,
    baselineLabel: 'qemu-img create overlay + rename',
  };
  return [
    row({ ...base, figure: `${FIGURES[0]} (stopped VM)`, hangar: hangar[0]!, baseline: raw[0]! }),
    row({ ...base, figure: `${FIGURES[1]} (stopped VM)`, hangar: hangar[1]!, baseline: raw[1]! }),
    row({
      section: 'snapshots',
      figure: 'reset to baseline, 20 GiB against 1 GiB, both holding 1 GiB (flatness)',
      unit: 'ms',
      hangar: hangar[1]!,
      baseline: hangar[0]!,
      baselineLabel: 'the same reset on a 1 GiB disk',
      target: '≈ 1 (flat in disk size)',
      paired: false,
    }),
  ];
}

const exec = promisify(execFile);
