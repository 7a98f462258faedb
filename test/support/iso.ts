// A small real ISO 9660 image made with xorriso (which setup installs): the engine refuses install
// media that is not ISO 9660 or UDF, so tests that only need "an ISO" use a real one.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function makeIso(path: string, label = 'HANGAR_TEST'): string {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-iso-'));
  try {
    writeFileSync(join(dir, 'README.TXT'), 'A test disc.\n');
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-V', label, '-o', path, dir], { stdio: 'pipe' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return path;
}
