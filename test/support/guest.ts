// The project's test guest (built by scripts/guest/build.sh) and helpers to make VMs from it.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// A URL, not __dirname: Playwright loads this file as an ES module, vitest either way.
const dir = fileURLToPath(new URL('../../.cache/guest', import.meta.url));

export interface GuestManifest {
  readyMarker: string;
  prompt: string;
  kernelVersion: string;
  directCmdline: string;
  httpBody: string;
}

export function guest() {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) {
    throw new Error(
      'The test guest is not built: run `npm run guest` (npm run test:integration does it for you).',
    );
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as GuestManifest;
  return {
    manifest,
    iso: join(dir, 'hangar-test.iso'),
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
  };
}

/**
 * Gives the app's demo (engine/demo) a copy of the built test guest in `cache` (as
 * XDG_CACHE_HOME), so its build step finds it up to date instead of downloading Debian packages.
 */
export function seedDemoCache(cache: string): string {
  guest();
  const to = join(cache, 'hangar', 'demo-guest');
  mkdirSync(to, { recursive: true });
  for (const f of ['hangar-test.iso', 'vmlinuz', 'initrd.img', 'manifest.json'])
    copyFileSync(join(dir, f), join(to, f));
  return cache;
}
