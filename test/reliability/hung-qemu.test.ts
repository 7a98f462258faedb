// A hung QEMU: SIGSTOP one VM's QEMU. Commands to it must fail with TIMEOUT and a message saying
// QEMU does not respond, while the engine and another VM answer at once; SIGCONT recovers it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/main/engine/engine';
import { createDispatcher, type Dispatcher } from '../../src/main/api/dispatch';
import { tempHome } from '../support/env';
import { makeGuestVm, shell } from '../support/vms';
import { qemuByPidfile, report } from './helpers';

const t = tempHome('hangar-rel-');
let engine: Engine;
let api: Dispatcher;
let stoppedPid: number | null = null;

beforeAll(async () => {
  engine = await Engine.open({ env: t.env, home: t.home });
  api = createDispatcher(engine);
});
afterAll(async () => {
  if (stoppedPid) process.kill(stoppedPid, 'SIGCONT');
  for (const vm of engine.list())
    if (!engine.isStopped(vm.id)) await engine.stop(vm.id, { force: true }).catch(() => undefined);
  await engine.close();
  t.cleanup();
});

/** Settles a promise into a record of when and how, without throwing. */
async function timed(p: Promise<unknown>) {
  const start = Date.now();
  try {
    return { ok: true as const, value: await p, ms: Date.now() - start, at: Date.now() };
  } catch (err) {
    const e = err as { code?: string; message: string };
    return { ok: false as const, code: e.code, message: e.message, ms: Date.now() - start, at: Date.now() };
  }
}

describe('hung QEMU', () => {
  it('times out commands to a SIGSTOPped QEMU with a clear error; the rest stays responsive', async () => {
    const hung = await makeGuestVm(engine, 'hung', { memoryMiB: 128 });
    const other = await makeGuestVm(engine, 'other', { memoryMiB: 128 });
    await engine.start(hung.id);
    await engine.start(other.id);
    (await shell(engine, hung.id, 120_000)).close();
    const pid = engine.runtime(hung.id).pid!;
    process.kill(pid, 'SIGSTOP');
    stoppedPid = pid;

    // Issued together: commands to the hung VM, then the UI's calls and a command to the other VM.
    const toHung = [
      timed(api.call('vm.pause', { vm: hung.id })),
      timed(api.call('vm.monitor', { vm: hung.id, command: 'info status' })),
      timed(api.call('vm.screenshot', { vm: hung.id })),
    ];
    const list = await timed(api.call('vm.list', {}));
    const get = await timed(api.call('vm.get', { vm: hung.id }));
    const otherCmd = await timed(api.call('vm.monitor', { vm: other.id, command: 'info status' }));
    const otherPause = await timed(api.call('vm.pause', { vm: other.id }));
    const otherResume = await timed(api.call('vm.resume', { vm: other.id }));
    const responsiveAt = Date.now();
    const hungResults = await Promise.all(toHung);

    const failures: string[] = [];
    for (const [name, r] of Object.entries({ list, get, otherCmd, otherPause, otherResume }))
      if (!r.ok) failures.push(`${name} failed while the other VM hung: ${r.code} ${r.message}`);
    if (otherCmd.ok && !String((otherCmd.value as { output: string }).output).includes('running'))
      failures.push(`other VM's monitor said ${JSON.stringify(otherCmd.value)}`);
    for (const r of hungResults) {
      if (r.ok) failures.push('a command to the stopped QEMU succeeded');
      else if (r.code !== 'TIMEOUT' || !/QEMU does not respond/.test(r.message))
        failures.push(`command to the hung VM failed with ${r.code}: ${r.message}`);
      // Everything else answered before the hung VM's commands gave up.
      if (r.at < responsiveAt) failures.push('a hung command settled before the other calls returned');
    }
    // A second command while it still hangs times out the same way.
    const again = await timed(api.call('vm.monitor', { vm: hung.id, command: 'info status' }));
    if (again.ok || again.code !== 'TIMEOUT')
      failures.push(
        `second command to the hung VM: ${again.ok ? 'succeeded' : `${again.code} ${again.message}`}`,
      );

    process.kill(pid, 'SIGCONT');
    stoppedPid = null;
    // Recovered: commands work again, and the state the engine shows is QEMU's, which includes
    // the late effect of the commands that timed out (QEMU runs them when it wakes: the pause).
    const status = await timed(engine.qmp(hung.id).execute<{ running: boolean }>('query-status'));
    const qemuState = status.ok && (status.value as { running: boolean }).running ? 'running' : 'paused';
    if (engine.runtime(hung.id).state !== qemuState)
      failures.push(`after SIGCONT the engine says ${engine.runtime(hung.id).state}, QEMU ${qemuState}`);
    if (qemuState === 'paused') await api.call('vm.resume', { vm: hung.id });
    const pause = await timed(api.call('vm.pause', { vm: hung.id }));
    const resume = await timed(api.call('vm.resume', { vm: hung.id }));
    const mon = await timed(api.call('vm.monitor', { vm: hung.id, command: 'info status' }));
    for (const [name, r] of Object.entries({ status, pause, resume, mon }))
      if (!r.ok) failures.push(`${name} after SIGCONT failed: ${r.code} ${r.message}`);
    if (engine.runtime(hung.id).state !== 'running')
      failures.push(`after SIGCONT the VM is ${engine.runtime(hung.id).state}`);

    // What the error advises works on a hung QEMU: a forced stop ends it (quit goes unanswered,
    // SIGTERM waits while it is stopped, SIGKILL does not).
    process.kill(pid, 'SIGSTOP');
    stoppedPid = pid;
    const forced = await timed(api.call('vm.stop', { vm: hung.id, force: true }));
    stoppedPid = null;
    if (!forced.ok) failures.push(`force stop of the hung VM: ${forced.code} ${forced.message}`);
    if (engine.runtime(hung.id).state !== 'stopped' || qemuByPidfile().has(engine.paths(hung.id).pidFile))
      failures.push(`after the forced stop the VM is ${engine.runtime(hung.id).state}`);

    report('hung QEMU', [
      [
        'commands to the stopped QEMU',
        `${hungResults.length} + 1, all ${[...new Set([...hungResults, again].map((r) => r.code))].join('/')}`,
      ],
      ['they gave up after (ms)', hungResults.map((r) => r.ms).join(', ')],
      ['vm.list / vm.get meanwhile (ms)', `${list.ms} / ${get.ms}`],
      ['other VM monitor / pause / resume (ms)', `${otherCmd.ms} / ${otherPause.ms} / ${otherResume.ms}`],
      ['after SIGCONT pause / resume / monitor (ms)', `${pause.ms} / ${resume.ms} / ${mon.ms}`],
      ['forced stop of the hung QEMU (ms)', forced.ms],
      ['failures', failures.length],
    ]);
    console.log(`the error: ${hungResults[0]!.ok ? '' : hungResults[0]!.message}`);
    expect(failures).toEqual([]);
  });
});
