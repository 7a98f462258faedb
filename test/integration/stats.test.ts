// Performance figures of a running guest (the tiny test guest under TCG): CPU of the QEMU
// process, its memory, and disk I/O that follows what the guest writes; the history the
// Performance tab reads, the batch the cards get, and `hangar top` from another process.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatsSample } from '../../src/shared/api-types';
import type { Engine } from '../../src/main/engine/engine';
import { createDispatcher } from '../../src/main/api/dispatch';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, shell } from '../support/vms';
import { hangar, requireBuild } from '../support/cli';

const t = tempHome();
let engine: Engine;

beforeAll(async () => {
  requireBuild();
  engine = await openEngine(t);
});
afterAll(() => closeEngine(engine, t));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('performance samples', () => {
  it('samples a running VM every second: CPU, memory, and the disk writes the guest makes', async () => {
    const vm = await makeGuestVm(engine, 'stats');
    await engine.start(vm.id);
    const sh = await shell(engine, vm.id);
    const api = createDispatcher(engine);
    const batches: { id: string; sample: StatsSample }[][] = [];
    const off = api.subscribe((event, data) => {
      if (event === 'stats')
        batches.push((data as { samples: { id: string; sample: StatsSample }[] }).samples);
    });
    // The guest writes 8 MiB to its disk, with the sampler running.
    await sleep(2_500);
    const r = await sh.run(
      'dd if=/dev/urandom of=/mnt/disk/blob bs=1M count=8 conv=fsync 2>/dev/null; echo done',
    );
    expect(r.output).toContain('done');
    await sleep(2_500);
    off();
    sh.close();

    const { samples, intervalMs } = (await api.call('vm.stats', { vm: vm.id })) as {
      samples: StatsSample[];
      intervalMs: number;
    };
    expect(intervalMs).toBe(1_000);
    expect(samples.length).toBeGreaterThanOrEqual(3);
    for (const s of samples) {
      expect(s.cpuPercent).toBeGreaterThanOrEqual(0);
      expect(s.rssBytes).toBeGreaterThan(16 * 2 ** 20);
      expect(s.net).toBeNull(); // the tiny guest has no agent
      expect(s.disks.map((d) => d.id)).toContain('disk0');
    }
    expect(samples.some((s) => (s.cpuPercent ?? 0) > 0)).toBe(true);
    const written = samples.reduce((t, s) => t + s.disks.find((d) => d.id === 'disk0')!.writeBytes, 0);
    // Rates over the samples add up to about what was written (a second's sample may straddle).
    expect(written).toBeGreaterThan(6 * 2 ** 20);
    expect(samples.every((s, i) => i === 0 || s.at > samples[i - 1]!.at)).toBe(true);
    // The cards' events carry this VM's newest sample each second.
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(batches.at(-1)!.map((b) => b.id)).toContain(vm.id);
    // A second's block stats are not worth a line in the capped qmp.log; the start's commands are.
    const qmpLog = readFileSync(engine.paths(vm.id).qmpLog, 'utf8');
    expect(qmpLog).toContain('qmp_capabilities');
    expect(qmpLog).not.toMatch(/query-blockstats|rd_bytes/);
    await engine.stop(vm.id, { force: true });
  }, 120_000);

  it('hangar top shows running VMs from another process, as a table and as JSON lines', async () => {
    const vm = await makeGuestVm(engine, 'top-me');
    await engine.start(vm.id);
    await engine.close(); // the VM keeps running; the CLI runs its own engine
    try {
      const table = await hangar(t.env, ['top', '--iterations', '2']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^NAME +CPU% +RSS/m);
      expect(table.stdout).toMatch(/^top-me +\d+\.\d +\d+(\.\d)?M /m);
      const json = await hangar(t.env, ['top', '--iterations', '2', '--json']);
      expect(json.code).toBe(0);
      const lines = json.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { vms: { name: string; sample: StatsSample }[] });
      expect(lines).toHaveLength(2);
      expect(lines[1]!.vms).toEqual([
        expect.objectContaining({
          name: 'top-me',
          sample: expect.objectContaining({ rssBytes: expect.any(Number) }),
        }),
      ]);
    } finally {
      engine = await openEngine(t);
    }
    await engine.stop(vm.id, { force: true });
  }, 120_000);
});
