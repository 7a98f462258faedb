// Opening an engine parses no vm.json of a VM that has nothing left half-done (recovery looks at
// folder listings, adoption at folder names); the first listing parses each once, and later ones
// none (the store's index), however many VMs there are.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ConfigStore } from '../../src/main/engine/config/store';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm } from '../support/vms';

const t = tempHome();
afterAll(() => vi.restoreAllMocks());

describe('engine start', () => {
  it('parses every vm.json exactly once, at the first listing', async () => {
    let engine = await openEngine(t);
    const made = [];
    for (const name of ['a', 'b', 'c', 'd']) made.push((await makeGuestVm(engine, name)).id);
    await engine.close();
    const parses = vi.spyOn(ConfigStore.prototype as unknown as { parse: (id: string) => unknown }, 'parse');
    engine = await openEngine(t);
    try {
      expect(parses).not.toHaveBeenCalled();
      expect(
        engine
          .list()
          .map((v) => v.name)
          .sort(),
      ).toEqual(['a', 'b', 'c', 'd']);
      expect(parses.mock.calls.map(([id]) => id).sort()).toEqual([...made].sort());
      engine.list();
      engine.resolve('c');
      expect(parses).toHaveBeenCalledTimes(made.length);
    } finally {
      parses.mockRestore();
      await closeEngine(engine, t);
    }
  });
});
