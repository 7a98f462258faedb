// The software TPM's state goes into a backup and comes back with a restore: a disk whose keys
// are sealed to the TPM is no use without it. Real swtpm, real QEMU.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import { createBackup, restoreBackup, verifyBackup } from '../../src/main/engine/backup';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, runOnce } from '../support/vms';

const t = tempHome('hangar-bk-tpm-');
let engine: Engine;
const started: string[] = [];

beforeAll(async () => {
  engine = await openEngine(t);
});
afterAll(async () => {
  for (const id of started) if (!engine.isStopped(id)) await engine.stop(id, { force: true });
  await closeEngine(engine, t);
});

it('keeps the TPM state in the backup and restores it into the new VM, which starts with it', async () => {
  const vm = await makeGuestVm(engine, 'tpm-src', { tpm: true });
  started.push(vm.id);
  await engine.start(vm.id);
  await runOnce(engine, vm.id, 'true');
  const tpmDir = join(engine.paths(vm.id).vmDir, 'tpm');
  const state = readdirSync(tpmDir).filter((f) => f.endsWith('.permall'));
  expect(state.length).toBe(1);

  const point = await createBackup(engine, vm.id);
  // The tiny guest runs no agent, and QEMU says so: nothing waited for one.
  expect(point.consistency).toBe('crash-consistent');
  expect((engine as unknown as { agents: Map<string, unknown> }).agents.has(vm.id)).toBe(false);
  const source = readFileSync(join(tpmDir, state[0]!));
  const names = (
    JSON.parse(readFileSync(join(point.dir, 'manifest.json'), 'utf8')) as { files: { name: string }[] }
  ).files.map((f) => f.name);
  expect(names).toContain(`tpm/${state[0]}`);
  // swtpm's lock file is not state, and is not copied.
  expect(names.filter((n) => n.startsWith('tpm/'))).toEqual([`tpm/${state[0]}`]);
  expect(readFileSync(join(point.dir, 'tpm', state[0]!)).equals(source)).toBe(true);
  expect((await verifyBackup(engine, point.id, { mode: 'full' })).ok).toBe(true);

  const restored = await restoreBackup(engine, point.id, 'tpm-restored');
  expect(restored.tpm).toBe(true);
  const restoredState = join(engine.paths(restored.id).vmDir, 'tpm', state[0]!);
  expect(readFileSync(restoredState).equals(source)).toBe(true);
  started.push(restored.id);
  await engine.start(restored.id);
  await runOnce(engine, restored.id, 'true');
  expect(engine.runtime(restored.id).state).toBe('running');
});
