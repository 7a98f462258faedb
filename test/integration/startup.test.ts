// Opening an engine reads each vm.json once (recovery), however many VMs there are: adopting
// running QEMUs needs only the folder names.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ConfigStore } from '../../src/main/engine/config/store';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm } from '../support/vms';

const t = tempHome();
afterAll(() => vi.restoreAllMocks());

describe('engine start', () => {
  it('reads every vm.json exactly once', async () => {
    let engine = await openEngine(t);
    const made = [];
    for (const name of ['a', 'b', 'c', 'd']) made.push((await makeGuestVm(engine, name)).id);
    await engine.close();
    const reads = vi.spyOn(ConfigStore.prototype, 'read');
    engine = await openEngine(t);
    try {
      const read = reads.mock.calls.map(([id]) => id).sort();
      expect(read).toEqual([...made].sort());
      expect(
        engine
          .list()
          .map((v) => v.name)
          .sort(),
      ).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      reads.mockRestore();
      await closeEngine(engine, t);
    }
  });
});
