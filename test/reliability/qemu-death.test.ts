// QEMU death: QEMU is SIGKILLed while the guest writes to its disk. The VM must show as crashed
// with the kill as its reason, `qemu-img check` must find no corruption (leaked clusters are
// harmless and printed), and the VM must start again with its filesystem readable. How long the
// crash took to show is printed for the README; npm run bench measures it (crash detection).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/main/engine/engine';
import { diskPath } from '../../src/main/engine/qemu/argv';
import { tempHome } from '../support/env';
import { makeGuestVm, shell, waitState } from '../support/vms';
import { imageCheck, report, sleep, rand } from './helpers';

const ROUNDS = Number(process.env.HANGAR_RELIABILITY_QEMU_KILLS ?? 4);
const t = tempHome('hangar-rel-');
let engine: Engine;

beforeAll(async () => {
  engine = await Engine.open({ env: t.env, home: t.home });
});
afterAll(async () => {
  for (const vm of engine.list())
    if (!engine.isStopped(vm.id)) await engine.stop(vm.id, { force: true }).catch(() => undefined);
  await engine.close();
  t.cleanup();
});

describe('QEMU death', () => {
  it(`survives ${ROUNDS} SIGKILLs of QEMU during disk writes`, async () => {
    const vm = await makeGuestVm(engine, 'victim', { memoryMiB: 192, disk: { kind: 'new', size: '256M' } });
    const disk = diskPath(vm, vm.disks[0]!, engine.paths(vm.id).vmDir);
    const failures: string[] = [];
    const crashMs: number[] = [];
    let leaks = 0;
    let corruptions = 0;
    for (let r = 1; r <= ROUNDS; r++) {
      await engine.start(vm.id);
      const sh = await shell(engine, vm.id, 120_000);
      // The filesystem from before the kill must still be there and readable.
      const ls = await sh.run('ls /mnt/disk >/dev/null && mount | grep -c /mnt/disk');
      if (ls.output.trim() !== '1')
        failures.push(`round ${r}: /mnt/disk not mounted after restart: ${ls.output}`);
      // Several writers at once, each syncing, so that the kill lands amid metadata updates too.
      sh.write(
        'for i in 1 2 3; do (while true; do dd if=/dev/urandom of=/mnt/disk/f$i bs=64k count=64 conv=fsync 2>/dev/null; done) & done\n',
      );
      await sleep(rand(800, 2500));
      // Every other round the QEMU is one the engine re-adopted (no child handle: the exit is
      // seen only through the QMP socket and /proc, and PID 1 reaps the zombie late).
      if (r % 2 === 0) {
        await engine.close();
        engine = await Engine.open({ env: t.env, home: t.home });
      }
      const pid = engine.runtime(vm.id).pid!;
      const crashed = waitState(engine, vm.id, 'crashed', 10_000);
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      await crashed;
      crashMs.push(Date.now() - killedAt);
      if (engine.runtime(vm.id).state !== 'crashed')
        failures.push(`round ${r}: state is ${engine.runtime(vm.id).state} after the crash event`);
      sh.close();
      // Our own child's signal is always known. An adopted QEMU's is read from its zombie in
      // /proc, which PID 1 may already have reaped: then the honest reason is the generic one.
      const reason = engine.runtime(vm.id).last.reason ?? '';
      const expected =
        r % 2 === 0
          ? /^QEMU was killed \(SIGKILL\)$|^QEMU exited unexpectedly$/
          : /^QEMU was killed \(SIGKILL\)$/;
      if (!expected.test(reason)) failures.push(`round ${r}: crash reason is "${reason}"`);
      const c = await imageCheck(engine, disk);
      leaks += c.leaks;
      corruptions += c.corruptions + c.errors;
      if (c.corruptions || c.errors) failures.push(`round ${r}: qemu-img check: ${JSON.stringify(c)}`);
    }
    // And once more: it starts, and the guest reads what the last round left.
    await engine.start(vm.id);
    const sh = await shell(engine, vm.id, 120_000);
    const ok = await sh.run('cat /mnt/disk/f1 /mnt/disk/f2 /mnt/disk/f3 > /dev/null; echo read-ok');
    sh.close();
    if (!ok.output.includes('read-ok')) failures.push(`final start: ${ok.output}`);
    await engine.stop(vm.id, { force: true });

    report('QEMU death', [
      ['QEMU kills during disk writes', ROUNDS],
      ['failures', failures.length],
      ['crashed after (ms; even rounds adopted)', crashMs.join(', ')],
      ['qemu-img check corruptions', corruptions],
      ['qemu-img check leaked clusters', leaks],
    ]);
    expect(failures).toEqual([]);
  });
});
