// A throwaway Hangar home and runtime dir per test file, always TCG (KVM is unusable here).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostInfo } from '../../src/shared/host';
import { probeHost } from '../../src/main/engine/probe';

export function tempHome(prefix = 'hangar-it-') {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const runtime = mkdtempSync('/tmp/hr-');
  const env = { ...process.env, HANGAR_HOME: home, HANGAR_RUNTIME_DIR: runtime, HANGAR_ACCEL: 'tcg' };
  return {
    home,
    runtime,
    env,
    cleanup: () => {
      rmSync(home, { recursive: true, force: true });
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
