// A throwaway Hangar home and runtime dir per test file, always TCG (KVM is unusable here).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostInfo } from '../../src/shared/host';
import { probeHost } from '../../src/main/engine/probe';
import { Engine } from '../../src/main/engine/engine';

/**
 * A Hangar home, and beside it (never inside: the path policy refuses Hangar's own data) a
 * folder for the user's files a test attaches: external disks, ISOs.
 */
export function tempHome(prefix = 'hangar-it-') {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const home = join(root, 'home');
  const files = join(root, 'files');
  mkdirSync(home);
  mkdirSync(files);
  const runtime = mkdtempSync('/tmp/hr-');
  const env = { ...process.env, HANGAR_HOME: home, HANGAR_RUNTIME_DIR: runtime, HANGAR_ACCEL: 'tcg' };
  return {
    home,
    files,
    runtime,
    env,
    cleanup: () => {
      rmSync(root, { recursive: true, force: true });
      rmSync(runtime, { recursive: true, force: true });
    },
  };
}

let cached: Promise<HostInfo> | null = null;
/** The probe with TCG forced, shared by the tests of one file. */
export function tcgHost(): Promise<HostInfo> {
  cached ??= probeHost({ env: { ...process.env, HANGAR_ACCEL: 'tcg' } });
  return cached;
}

/** The engine a test file works with, on its throwaway home. */
export async function openEngine(t: ReturnType<typeof tempHome>): Promise<Engine> {
  return Engine.open({ env: t.env, home: t.home });
}

/** Pulls the plug on every VM still running, closes the engine and removes the home. */
export async function closeEngine(engine: Engine, t: ReturnType<typeof tempHome>): Promise<void> {
  for (const vm of engine.list()) {
    if (vm.state !== 'stopped' && vm.state !== 'crashed') await engine.stop(vm.id, { force: true });
  }
  await engine.close();
  t.cleanup();
}
