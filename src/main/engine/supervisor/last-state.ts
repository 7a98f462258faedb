// The latest state change of a VM, kept beside vm.json so that the next engine (the app after a
// restart, the next CLI command) can show why a VM is in its state instead of only that it is.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateChange } from '../../../shared/state';
import type { VmPaths } from '../config/paths';
import { writeFileAtomic } from '../config/atomic';

const file = (paths: VmPaths) => join(paths.vmDir, 'last-state.json');

export function saveLastState(paths: VmPaths, change: StateChange): void {
  try {
    writeFileAtomic(file(paths), JSON.stringify(change));
  } catch {
    // The VM directory may be gone (deleted VM); the state is then of no use to anyone.
  }
}

export function loadLastState(paths: VmPaths, id: string): StateChange | null {
  // A VM never started has none; a stat is cheaper than the exception a failed read makes.
  if (!existsSync(file(paths))) return null;
  try {
    const parsed = StateChange.safeParse(JSON.parse(readFileSync(file(paths), 'utf8')));
    return parsed.success && parsed.data.id === id ? parsed.data : null;
  } catch {
    return null;
  }
}
