// The real Debian cloud image (scripts/guest/debian/build.sh), built once and cached by its
// inputs hash. Tests treat it exactly like a downloaded cloud image.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** The image's path, building it if needed (a few minutes the first time, a second when cached). */
export function debianImage(release: 'bookworm' | 'trixie' = 'bookworm'): string {
  execFileSync('bash', [join(root, 'scripts', 'guest', 'debian', 'build.sh'), release], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 30 * 60_000,
  });
  const image = join(root, '.cache', 'guest', `debian-${release}`, 'disk.qcow2');
  if (!existsSync(image)) throw new Error(`The Debian ${release} image was not built: ${image} is missing.`);
  return image;
}
