// The VM lifecycle through the engine, against real QEMU and the test guest: start, pause,
// resume, reset, ACPI shutdown, force stop, crash detection, double start, re-adoption after
// the engine process is killed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Engine } from '../../src/main/engine/engine';
import { isAlive, readPidFile } from '../../src/main/engine/supervisor/proc';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, shell, waitState } from '../support/vms';

const t = tempHome();
let engine: Engine;

beforeAll(async () => {
  engine = await openEngine(t);
});
afterAll(() => closeEngine(engine, t));

describe('lifecycle', () => {
  it('starts, pauses, resumes, resets and shuts down through ACPI', async () => {
    const vm = await makeGuestVm(engine, 'life');
    const states: string[] = [];
    engine.on('state', (s) => s.id === vm.id && states.push(s.state));
    expect((await engine.start(vm.id)).state).toBe('running');
    const sh = await shell(engine, vm.id);
    await engine.pause(vm.id);
    expect(engine.runtime(vm.id).state).toBe('paused');
    expect((await engine.qmp(vm.id).execute<{ status: string }>('query-status')).status).toBe('paused');
    await engine.resume(vm.id);
    expect((await sh.run('echo alive')).output).toBe('alive');
    sh.clear();
    await engine.reset(vm.id);
    await sh.waitFor(/HANGAR-GUEST-READY/, 60_000);
    expect(engine.runtime(vm.id).state).toBe('running');
    await sh.waitFor(/hangar-guest# /, 10_000);
    const stopped = await engine.stop(vm.id, { timeoutMs: 30_000 });
    sh.close();
    expect(stopped).toMatchObject({ state: 'stopped', reason: 'shut down' });
    expect(states).toEqual(['starting', 'running', 'paused', 'running', 'stopping', 'stopped']);
  });

  it('notices a guest-initiated poweroff', async () => {
    const vm = await makeGuestVm(engine, 'guest-off');
    await engine.start(vm.id);
    const sh = await shell(engine, vm.id);
    sh.write('poweroff\n');
    await waitState(engine, vm.id, 'stopped', 30_000);
    sh.close();
    expect(engine.runtime(vm.id).last.reason).toBe('the guest powered off');
  });

  it('force-stops a VM at once', async () => {
    const vm = await makeGuestVm(engine, 'force');
    await engine.start(vm.id);
    const s = await engine.stop(vm.id, { force: true });
    expect(s).toMatchObject({ state: 'stopped', reason: 'forced off' });
  });

  it('refuses a double start and a start while busy', async () => {
    const vm = await makeGuestVm(engine, 'double');
    const first = engine.start(vm.id);
    await expect(engine.start(vm.id)).rejects.toMatchObject({ code: 'BUSY' });
    await first;
    await expect(engine.start(vm.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    await engine.stop(vm.id, { force: true });
  });

  it('shows a killed QEMU as crashed, with the reason, and starts it again', async () => {
    const vm = await makeGuestVm(engine, 'crash');
    await engine.start(vm.id);
    const pid = engine.runtime(vm.id).pid!;
    const crashed = waitState(engine, vm.id, 'crashed', 5_000);
    process.kill(pid, 'SIGKILL');
    await crashed;
    expect(engine.runtime(vm.id).last).toMatchObject({
      state: 'crashed',
      reason: 'QEMU was killed (SIGKILL)',
    });
    expect((await engine.start(vm.id)).state).toBe('running');
    await engine.stop(vm.id, { force: true });
  });

  it('reports a failed start with QEMU\u2019s words and returns to stopped', async () => {
    const vm = await makeGuestVm(engine, 'bad-start', { memoryMiB: 256, cpuModel: 'no-such-cpu' });
    await expect(engine.start(vm.id)).rejects.toMatchObject({
      code: 'QEMU_FAILED',
      message: expect.stringMatching(/no-such-cpu/),
    });
    expect(engine.runtime(vm.id).state).toBe('stopped');
  });

  it('re-adopts a VM after its engine process is killed, and never starts it twice', async () => {
    const vm = await makeGuestVm(engine, 'adopt');
    await engine.close();
    // node itself, not npx: the SIGKILL must hit the engine process, not a wrapper.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '../support/engine-child.ts'), 'start', vm.id],
      {
        env: t.env,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`engine child exited ${code}: ${out}`)));
    });
    const qemuPid = readPidFile(engine.paths(vm.id).pidFile)!;
    expect(isAlive(qemuPid)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    engine = await Engine.open({ env: t.env, home: t.home });
    expect(engine.runtime(vm.id).state).toBe('running');
    expect(engine.runtime(vm.id).pid).toBe(qemuPid);
    expect(engine.runtime(vm.id).last.reason).toBe('started'); // the first engine's reason survives
    await expect(engine.start(vm.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    const sh = await shell(engine, vm.id);
    expect((await sh.run('echo adopted')).output).toBe('adopted');
    sh.close();
    await engine.stop(vm.id, { timeoutMs: 30_000 });
    expect(isAlive(qemuPid)).toBe(false);
  });

  it('reports a QEMU that ended while no engine was running, and keeps a crash reason across engines', async () => {
    const vm = await makeGuestVm(engine, 'unwatched');
    await engine.start(vm.id);
    const pid = engine.runtime(vm.id).pid!;
    await engine.close();
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    engine = await Engine.open({ env: t.env, home: t.home });
    expect(engine.runtime(vm.id).last).toMatchObject({
      state: 'stopped',
      reason: expect.stringMatching(/while no Hangar engine was running/),
    });

    await engine.start(vm.id);
    const crashed = waitState(engine, vm.id, 'crashed', 5_000);
    process.kill(engine.runtime(vm.id).pid!, 'SIGKILL');
    await crashed;
    await engine.close();
    engine = await Engine.open({ env: t.env, home: t.home });
    expect(engine.runtime(vm.id).last).toMatchObject({
      state: 'crashed',
      reason: 'QEMU was killed (SIGKILL)',
    });
  });

  it('refuses a second engine on the same home', async () => {
    await expect(Engine.open({ env: t.env, home: t.home })).rejects.toMatchObject({ code: 'BUSY' });
  });
});
