// Crash detection: a running QEMU is SIGKILLed; Hangar's figure is the time until the engine's
// `state` event says crashed, the baseline the time until a raw QMP client sees its socket close
// (the first sign of the death a program outside the kernel gets). Twice on Hangar's side: a QEMU
// the engine started (its own child) and one it re-adopted after a restart (no child handle, so
// the death is seen through QMP and /proc). The tests only check that a crash is reported and why;
// how fast is measured here.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { Engine } from '../../src/main/engine/engine';
import { buildArgv } from '../../src/main/engine/qemu/argv';
import { ensureRuntimeDir } from '../../src/main/engine/config/paths';
import { now, onCleanup, rememberProbe, reps, tempHome } from '../lib/env';
import { makeVm } from '../lib/hangar';
import { connectUnix } from '../lib/raw';
import { row, type Row } from '../lib/stats';

export async function run(): Promise<Row[]> {
  const h = tempHome('crash');
  // Not openEngine(): the engine is closed and opened again below, and cleanup needs the last one.
  let engine = await Engine.open({ home: h.home, env: h.env });
  rememberProbe(h.home);
  onCleanup(async () => {
    for (const v of engine.list())
      if (!engine.isStopped(v.id)) await engine.stop(v.id, { force: true }).catch(() => undefined);
    await engine.close();
  });
  const vm = await makeVm(engine, 'bench-crash', 128, null);
  const paths = engine.paths(vm.id);

  const crashedAt = (e: Engine) =>
    new Promise<number>((resolve) => {
      const on = (s: { id: string; state: string }) => {
        if (s.id !== vm.id || s.state !== 'crashed') return;
        e.off('state', on);
        resolve(now());
      };
      e.on('state', on);
    });

  const hangarCrash = async (adopted: boolean): Promise<number> => {
    await engine.start(vm.id);
    if (adopted) {
      await engine.close();
      engine = await Engine.open({ home: h.home, env: h.env });
    }
    const rt = engine.runtime(vm.id);
    if (rt.state !== 'running') throw new Error(`the VM is ${rt.state}, not running, before the kill`);
    const crashed = crashedAt(engine);
    const t0 = now();
    process.kill(rt.pid!, 'SIGKILL');
    const t = (await crashed) - t0;
    if (!rt.last.reason) throw new Error('crashed without a reason');
    return t;
  };

  const rawCrash = async (): Promise<number> => {
    ensureRuntimeDir(paths);
    for (const f of [paths.serialSocket, paths.qmpSocket, paths.vncSocket, paths.pidFile])
      rmSync(f, { force: true });
    const child = spawn(engine.host.qemu.path, buildArgv(vm, engine.host, paths), { stdio: 'ignore' });
    const exited = once(child, 'exit');
    try {
      const qmp = await connectUnix(paths.qmpSocket);
      await once(qmp, 'data'); // the greeting: QEMU is up and serving this client
      const closed = once(qmp, 'close').then(() => now());
      const t0 = now();
      child.kill('SIGKILL');
      return (await closed) - t0;
    } finally {
      child.kill('SIGKILL');
      await exited;
      for (const f of [paths.serialSocket, paths.qmpSocket, paths.vncSocket, paths.pidFile])
        rmSync(f, { force: true });
    }
  };

  const own: number[] = [];
  const adopted: number[] = [];
  const raw: number[] = [];
  const n = reps(8, 3);
  for (let i = 0; i < n; i++) {
    // Rotating who goes first spreads slow drifts of the machine over all three.
    const turns = [
      async () => own.push(await hangarCrash(false)),
      async () => adopted.push(await hangarCrash(true)),
      async () => raw.push(await rawCrash()),
    ];
    for (let k = 0; k < turns.length; k++) await turns[(i + k) % turns.length]!();
  }
  const common = {
    section: 'crash',
    unit: 'ms',
    baseline: raw,
    baselineLabel: 'raw QMP socket closes',
    paired: true,
  };
  return [
    row({ ...common, figure: 'QEMU SIGKILLed to crashed state event (own child)', hangar: own }),
    row({ ...common, figure: 'QEMU SIGKILLed to crashed state event (re-adopted)', hangar: adopted }),
  ];
}
