// The Hangar version recorded in each manifest: read once from the package.json above this file
// (the source tree, or the app's bundle), 'unknown' when there is none.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function hangarVersion(): string {
  if (cached !== null) return cached;
  cached = 'unknown';
  // The bundle defines __dirname; run from the sources as ES modules (tsx: the bench) it is not.
  let dir = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'hangar' && typeof pkg.version === 'string') {
          cached = pkg.version.slice(0, 50);
          break;
        }
      } catch {
        // not ours: keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return cached;
}
