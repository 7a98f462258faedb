// The empty state's demo against a real engine and QEMU: one call makes a VM of the tiny guest
// (seeded in this run's cache, so nothing is downloaded), starts it, and its web server answers
// through the forward; a second call points at the first demo instead of making another.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../src/main/engine/engine';
import type { VmConfig } from '../../src/shared/vm';
import { createDispatcher, type Dispatcher } from '../../src/main/api/dispatch';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { guest, seedDemoCache } from '../support/guest';

const t = tempHome();
const cache = seedDemoCache(mkdtempSync(join(tmpdir(), 'hangar-demo-cache-')));
(t.env as NodeJS.ProcessEnv).XDG_CACHE_HOME = cache;
let engine: Engine;
let api: Dispatcher;

beforeAll(async () => {
  engine = await openEngine(t);
  api = createDispatcher(engine);
});
afterAll(async () => {
  await closeEngine(engine, t);
  rmSync(cache, { recursive: true, force: true });
});

describe('the demo', () => {
  it('makes and starts a VM of the tiny guest whose web server answers on the forwarded port', async () => {
    const vm = (await api.call('vm.demo', {})) as VmConfig;
    expect(vm).toMatchObject({ name: 'demo', tags: ['demo'], firmware: 'bios' });
    expect(vm.cdroms[0]!.media).toBe(join(cache, 'hangar', 'demo-guest', 'hangar-test.iso'));
    expect(engine.runtime(vm.id).state).toBe('running');
    await api.call('vm.wait', {
      vm: vm.id,
      for: [`serial:${guest().manifest.readyMarker}`],
      timeoutSec: 120,
    });
    const port = vm.nics[0]!.portForwards[0]!.hostPort;
    const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(body.trim()).toBe(guest().manifest.httpBody);
    await expect(api.call('vm.demo', {})).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/There is a demo VM already \("demo"\)/),
    });
    expect(engine.list()).toHaveLength(1);
    await engine.stop(vm.id, { force: true });
  }, 180_000);
});
