// Restart safety: an engine process doing random operations (start, stop, snapshot, clone, create,
// delete) over three running VMs is SIGKILLed at random moments, again and again. After each kill a
// fresh engine must re-adopt every VM whose QEMU runs, never run a second QEMU for one VM, read
// every vm.json, and leave no half-made files behind (it finishes or removes them at open).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/main/engine/engine';
import { tempHome } from '../support/env';
import { makeGuestVm } from '../support/vms';
import { guest } from '../support/guest';
import { existsSync } from 'node:fs';
import {
  checkHome,
  killAndReap,
  qemuByPidfile,
  killQemusOf,
  rand,
  report,
  sleep,
  tsChild,
  waitLine,
} from './helpers';

const KILLS = Number(process.env.HANGAR_RELIABILITY_KILLS ?? 30);
const t = tempHome('hangar-rel-');
const g = guest();
const guestJson = JSON.stringify({ kernel: g.kernel, initrd: g.initrd, cmdline: g.manifest.directCmdline });
let engine: Engine | null = null;

beforeAll(async () => {
  engine = await Engine.open({ env: t.env, home: t.home });
});
afterAll(async () => {
  engine ??= await Engine.open({ env: t.env, home: t.home }).catch(() => null);
  if (engine) {
    for (const vm of engine.list())
      if (vm.state !== 'stopped' && vm.state !== 'crashed')
        await engine.stop(vm.id, { force: true }).catch(() => undefined);
    await engine.close();
  }
  killQemusOf(t.home, t.env);
  t.cleanup();
});

describe('restart safety', () => {
  it(`survives ${KILLS} SIGKILLs of the engine at random moments`, async () => {
    const main: string[] = [];
    for (const [i, mem] of [128, 192, 256].entries()) {
      const vm = await makeGuestVm(engine!, `main-${i}`, { memoryMiB: mem });
      await engine!.start(vm.id);
      main.push(vm.id);
    }
    await engine!.close();
    engine = null;

    const failures: string[] = [];
    const during = new Map<string, number>();
    const mismatches = new Set<string>();
    let maxRunning = 0;
    let early = 0;
    const codes = new Map<string, number>();
    const recovered = new Map<string, number>();
    for (let k = 1; k <= KILLS; k++) {
      // A third of the kills are aimed at the first moments of a start (QEMU spawned, its pidfile
      // or QMP socket perhaps not there yet), a third at a clone, create or delete under way; the
      // rest fall anywhere in a mix of every operation.
      const aim = [null, ['start'], ['clone', 'create', 'delete']][k % 3]!;
      const child = tsChild('chaos-engine.ts', main, {
        ...t.env,
        CHAOS_GUEST: guestJson,
        ...(aim ? { CHAOS_OPS: aim[0] === 'start' ? 'start,stop' : 'stop,clone,create,delete' } : {}),
      });
      let current = 'idle';
      const log: string[] = [];
      await waitLine(child, /^ready$/, (l) => {
        log.push(l);
        if (l.startsWith('op ')) current = l.slice(3);
        else if (l.startsWith('end ')) current = 'idle';
      });
      if (aim) {
        const until = Date.now() + 60_000;
        while (!aim.includes(current) && child.exitCode === null && Date.now() < until) await sleep(2);
        await sleep(aim[0] === 'start' ? rand(0, 40) : rand(0, 150));
      } else await sleep(rand(50, 3000));
      const at = current;
      const reaped = killAndReap(child);
      // QEMUs caught so early that they have no pidfile yet: only /proc can find them.
      for (const [file] of qemuByPidfile()) if (file.startsWith(t.runtime) && !existsSync(file)) early++;
      await reaped;
      during.set(at, (during.get(at) ?? 0) + 1);
      for (const l of log) {
        const m = /^end (\S+) (\S+)/.exec(l);
        if (m && m[2] !== 'ok') codes.set(m[2]!, (codes.get(m[2]!) ?? 0) + 1);
        if (m?.[2] === 'INTERNAL') failures.push(`kill ${k}: an operation failed without a clear code: ${l}`);
      }

      engine = await Engine.open({ env: t.env, home: t.home });
      for (const note of engine.recovered) {
        const kind = /: (.*)$/.exec(note)?.[1] ?? note;
        recovered.set(kind, (recovered.get(kind) ?? 0) + 1);
      }
      const c = await checkHome(engine);
      maxRunning = Math.max(maxRunning, c.running);
      for (const m of c.snapshotMismatches) mismatches.add(m);
      for (const id of main)
        if (!engine.store.list().some((e) => e.id === id)) c.failures.push(`main VM ${id} is gone`);
      for (const f of c.failures) failures.push(`kill ${k} (during ${at}): ${f}`);
      if (c.failures.length) console.log(`kill ${k} during ${at}; child said:\n${log.slice(-8).join('\n')}`);
      // Now and then bring the three back up, so that most kills hit an engine with VMs running.
      if (k % 5 === 0)
        for (const id of main) if (engine.isStopped(id)) await engine.start(id).catch(() => undefined);
      await engine.close();
      engine = null;
    }
    engine = await Engine.open({ env: t.env, home: t.home });

    report('restart safety', [
      ['engine kills', KILLS],
      ['failures', failures.length],
      [
        'kills during an operation',
        [...during]
          .filter(([op]) => op !== 'idle')
          .map(([op, n]) => `${op} ${n}`)
          .join(', '),
      ],
      ['kills while idle', during.get('idle') ?? 0],
      ['QEMUs found without a pidfile', early],
      ['operation errors in the children', [...codes].map(([c, n]) => `${c} ${n}`).join(', ') || 'none'],
      ['cleaned at open', [...recovered].map(([kind, n]) => `${n}x ${kind}`).join('; ') || 'nothing'],
      ['snapshot tags out of step (listed)', mismatches.size],
      ['most VMs running at a kill', maxRunning],
    ]);
    if (mismatches.size) console.log([...mismatches].join('\n'));
    expect(failures).toEqual([]);
  });
});
