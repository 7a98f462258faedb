// Torn writes: a process saving vm.json in a tight loop is SIGKILLed at random moments. Every
// time, vm.json must parse and hold either the old or the new content; the temp files a killed
// write leaves are removed when the next engine opens.
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/main/engine/engine';
import { ConfigStore } from '../../src/main/engine/config/store';
import { vm } from '../../src/main/engine/testing/fixtures';
import { tempHome } from '../support/env';
import { killAndReap, rand, report, sleep, tsChild, waitLine } from './helpers';

const KILLS = Number(process.env.HANGAR_RELIABILITY_TORN ?? 40);
const t = tempHome('hangar-rel-');
afterAll(() => t.cleanup());

describe('torn writes', () => {
  it(`keeps vm.json whole through ${KILLS} kills during writes`, async () => {
    const store = new ConfigStore(t.home);
    const config = store.create(vm({ name: 'torn' }));
    const dir = join(t.home, 'vms', config.id);
    const failures: string[] = [];
    const seen = { A: 0, B: 0, original: 0 };
    const temps = new Set<string>();
    let cleaned = 0;
    for (let k = 1; k <= KILLS; k++) {
      const child = tsChild('torn-writer.ts', [t.home, config.id], t.env);
      await waitLine(child, /^writing$/);
      await sleep(rand(1, 120));
      await killAndReap(child);

      const entry = store.read(config.id);
      if (!entry.ok) failures.push(`kill ${k}: ${entry.error}`);
      else {
        const d = entry.config.description;
        if (d === 'A'.repeat(3000)) seen.A++;
        else if (d === 'B'.repeat(40)) seen.B++;
        else if (d === config.description) seen.original++;
        else failures.push(`kill ${k}: vm.json holds neither content: ${d.slice(0, 40)}`);
      }
      try {
        JSON.parse(readFileSync(join(dir, 'vm.json'), 'utf8'));
      } catch (err) {
        failures.push(`kill ${k}: vm.json is not JSON: ${(err as Error).message}`);
      }
      for (const f of readdirSync(dir)) if (f.endsWith('.tmp')) temps.add(f);
      // Every few kills an engine opens, as the app would after a crash, and must clean up.
      if (k % 5 === 0 || k === KILLS) {
        const engine = await Engine.open({ env: t.env, home: t.home });
        cleaned += engine.recovered.length;
        await engine.close();
        const left = readdirSync(dir).filter((f) => f !== 'vm.json' && f !== 'last-state.json');
        if (left.length) failures.push(`kill ${k}: left after open: ${left.join(', ')}`);
      }
    }
    report('torn writes', [
      ['kills during vm.json writes', KILLS],
      ['failures', failures.length],
      ['found old / new content', `${seen.A} long, ${seen.B} short, ${seen.original} first`],
      ['temp files left by kills', temps.size],
      ['temp files removed at open', cleaned],
    ]);
    expect(failures).toEqual([]);
  });
});
