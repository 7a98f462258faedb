// The project's test guest (built by scripts/guest/build.sh) and helpers to make VMs from it.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(__dirname, '..', '..', '.cache', 'guest');

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
