// The project's test guest (built by scripts/guest/build.sh) and helpers to make VMs from it.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
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
 * The same tiny guest on Debian's generic kernel, which has 9p (the cloud kernel does not), built
 * on first use into .cache/guest-generic (one kernel package from the mirror, then cached).
 */
export function genericGuest() {
  const out = fileURLToPath(new URL('../../.cache/guest-generic', import.meta.url));
  const script = fileURLToPath(new URL('../../scripts/guest/build.sh', import.meta.url));
  const built = spawnSync('bash', [script], {
    env: { ...process.env, HANGAR_GUEST_KERNEL: 'generic', HANGAR_GUEST_OUT: out },
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (built.status !== 0) throw new Error(`building the generic-kernel guest failed:\n${built.stderr}`);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as GuestManifest;
  return { manifest, kernel: join(out, 'vmlinuz'), initrd: join(out, 'initrd.img') };
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
