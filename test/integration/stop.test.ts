// Shutting down asks the guest and waits; it never turns into a power cut by itself. A guest that
// ignores the power button keeps running and the caller hears TIMEOUT; the plug is pulled only
// when asked (force, or forceAfter for scripts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, shell } from '../support/vms';
import { vmExec } from '../../src/main/engine/agent/vm-ops';

const t = tempHome();
let engine: Engine;

beforeAll(async () => {
  engine = await openEngine(t);
});
afterAll(() => closeEngine(engine, t));

describe('shutting down a guest that ignores the power button', () => {
  it('keeps it running and says TIMEOUT, then pulls the plug only when asked to', async () => {
    const vm = await makeGuestVm(engine, 'deaf guest');
    await engine.start(vm.id);
    const sh = await shell(engine, vm.id);
    // The test guest powers off through acpid; without it the button does nothing.
    expect((await sh.run('killall acpid; sleep 1; pidof acpid || echo none')).output).toMatch(/none/);
    const waits: string[] = [];
    const onProgress = (p: { id: string; step: string }) => p.id === vm.id && waits.push(p.step);
    engine.on('progress', onProgress);
    const pid = engine.runtime(vm.id).pid;
    await expect(engine.stop(vm.id, { timeoutMs: 3_000 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/still running/),
    });
    engine.off('progress', onProgress);
    expect(waits.some((w) => /waiting for the guest to shut down/.test(w))).toBe(true);
    expect(engine.runtime(vm.id).state).toBe('running');
    expect(engine.runtime(vm.id).pid).toBe(pid);
    // The guest is still alive and answering.
    expect((await sh.run('echo still here')).output).toMatch(/still here/);
    sh.close();
    await engine.stop(vm.id, { timeoutMs: 2_000, forceAfter: true });
    expect(engine.runtime(vm.id).last).toMatchObject({
      state: 'stopped',
      reason: expect.stringMatching(/forced off as asked/),
    });
  });

  it('a guest that handles the button still powers off by itself', async () => {
    const vm = await makeGuestVm(engine, 'polite guest');
    await engine.start(vm.id);
    (await shell(engine, vm.id)).close();
    // The tiny guest has no agent: commands through it say so at once, not after their timeout.
    await expect(vmExec(engine, vm.id, 'true', {})).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/No guest agent answers/),
    });
    await engine.stop(vm.id, { timeoutMs: 30_000 });
    expect(engine.runtime(vm.id).last).toMatchObject({ state: 'stopped', reason: 'shut down' });
  });
});
