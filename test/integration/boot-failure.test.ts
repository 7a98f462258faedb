// A VM that cannot boot says why, from the firmware's own words, against real QEMU: SeaBIOS with
// nothing bootable, and OVMF with Secure Boot refusing the test guest's unsigned GRUB. A VM that
// boots is never reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import type { Readiness } from '../../src/shared/api-types';
import type { VmConfig } from '../../src/shared/vm';
import { createDispatcher, type Dispatcher } from '../../src/main/api/dispatch';
import { assess } from '../../src/main/engine/ready/watch';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { guest } from '../support/guest';

const t = tempHome();
let engine: Engine;
let api: Dispatcher;

beforeAll(async () => {
  engine = await openEngine(t);
  api = createDispatcher(engine);
});
afterAll(() => closeEngine(engine, t));

/** Asks as the cards' watch does, until `until` holds or the time is up; the last answer. */
async function watch(vm: VmConfig, until: (r: Readiness) => boolean, ms: number): Promise<Readiness> {
  const end = Date.now() + ms;
  let r = await assess(engine, engine.store.load(vm.id));
  while (!until(r) && Date.now() < end) {
    await new Promise((done) => setTimeout(done, 2000));
    r = await assess(engine, engine.store.load(vm.id));
  }
  return r;
}

const create = async (name: string, extra: object) =>
  (await api.call('vm.create', {
    name,
    cpus: 1,
    memoryMiB: 256,
    disk: { kind: 'new', size: '16M' },
    network: null,
    ...extra,
  })) as VmConfig;

describe('a VM that does not boot', () => {
  it('says there is nothing to boot when SeaBIOS finds no bootable device, and what to do', async () => {
    const vm = await create('blank bios', { firmware: 'bios' });
    await engine.start(vm.id);
    const r = await watch(vm, (x) => x.stage === 'no-boot', 90_000);
    expect(r).toMatchObject({
      stage: 'no-boot',
      detail: expect.stringMatching(/^Nothing to boot: .*reset the VM\.$/),
    });
    await engine.stop(vm.id, { force: true });
  }, 120_000);

  it('says Secure Boot refused the media when OVMF denies the unsigned test ISO', async () => {
    const vm = await create('secure boot', { firmware: 'uefi-secure', iso: guest().iso });
    await engine.start(vm.id);
    const r = await watch(vm, (x) => x.stage === 'no-boot', 180_000);
    expect(r).toMatchObject({
      stage: 'no-boot',
      detail: expect.stringMatching(/^Secure Boot refused the boot media/),
    });
    await engine.stop(vm.id, { force: true });
  }, 240_000);

  it('reports nothing of the kind for a VM that boots its ISO', async () => {
    const vm = await create('boots', { firmware: 'bios', iso: guest().iso });
    await engine.start(vm.id);
    // Booted once the guest's ready marker is on the serial console.
    await api.call('vm.wait', {
      vm: vm.id,
      for: [`serial:${guest().manifest.readyMarker}`],
      timeoutSec: 120,
    });
    expect((await assess(engine, engine.store.load(vm.id))).stage).toBe('no-agent');
    await engine.stop(vm.id, { force: true });
  }, 180_000);
});
