// Reset-to-baseline (issue 5) for a 1 GiB and a 20 GiB sparse disk. The feature may not exist yet:
// this section looks for src/main/engine/baseline.ts with setBaseline(engine, ref) and
// resetToBaseline(engine, ref) at run time, and lights up by itself once that module appears.
// Two figures per size: the reset against what a script would do by hand (qemu-img create of a
// fresh overlay over the same base, then rename), and the flatness: 20 GiB against 1 GiB, ideally ≈ 1.
import { execFile } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Engine } from '../../src/main/engine/engine';
import { now, reps, root, tempHome } from '../lib/env';
import { makeVm, openEngine } from '../lib/hangar';
import { noteRow, row, type Row } from '../lib/stats';

type BaselineFn = (engine: Engine, ref: string) => Promise<unknown>;

const MODULE = join(root, 'src', 'main', 'engine', 'baseline.ts');
const FIGURES = ['reset to baseline, 1 GiB sparse disk', 'reset to baseline, 20 GiB sparse disk'];

async function load(): Promise<{ setBaseline: BaselineFn; resetToBaseline: BaselineFn } | string> {
  if (!existsSync(MODULE)) return 'src/main/engine/baseline.ts does not exist';
  // A computed specifier: the module may be absent, and the type checker must not require it.
  const mod = (await import(pathToFileURL(MODULE).href)) as Record<string, unknown>;
  const { setBaseline, resetToBaseline } = mod;
  if (typeof setBaseline !== 'function' || typeof resetToBaseline !== 'function')
    return 'baseline.ts does not export setBaseline(engine, ref) and resetToBaseline(engine, ref)';
  return { setBaseline: setBaseline as BaselineFn, resetToBaseline: resetToBaseline as BaselineFn };
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
    // qemu-img creates the qcow2 sparse, so 20 GiB costs no disk space.
    const vm = await makeVm(engine, `bench-reset-${size}`, 256, size);
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
      figure: 'reset to baseline, 20 GiB against 1 GiB (flatness)',
      unit: 'ms',
      hangar: hangar[1]!,
      baseline: hangar[0]!,
      baselineLabel: 'the same reset on a 1 GiB disk',
      target: '≈ 1 (flat in disk size)',
    }),
  ];
}

const exec = promisify(execFile);
