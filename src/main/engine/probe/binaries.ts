// Finds the QEMU programs: an explicit override first (HANGAR_QEMU, HANGAR_QEMU_IMG,
// HANGAR_SWTPM), then PATH. A missing QEMU is an error that names the packages to install.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { HangarError } from '../../../shared/errors';

const run = promisify(execFile);

export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

const PACKAGES: Record<string, string> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
  swtpm: 'swtpm',
};

export function locate(
  name: string,
  override: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (override) {
    try {
      accessSync(override, constants.X_OK);
      return override;
    } catch {
      throw new HangarError(
        'QEMU_NOT_FOUND',
        `${override} (set by the environment) is not an executable file.`,
      );
    }
  }
  const found = findOnPath(name, env);
  if (found) return found;
  throw new HangarError(
    'QEMU_NOT_FOUND',
    `${name} was not found on PATH. Install it: sudo apt-get install ${PACKAGES[name] ?? name} ` +
      '(on Fedora: sudo dnf install qemu-kvm qemu-img).',
    { program: name },
  );
}

/** The first line of `--version`, e.g. "QEMU emulator version 7.2.22 (Debian ...)". */
export async function versionLine(path: string): Promise<string> {
  const { stdout } = await run(path, ['--version'], { timeout: 10_000 });
  return stdout.split('\n')[0]?.trim() ?? '';
}

export function parseVersion(line: string): { major: number; minor: number; micro: number; version: string } {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(line);
  if (!m) throw new HangarError('QEMU_FAILED', `Cannot read a version from "${line}".`);
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    micro: Number(m[3]),
    version: `${m[1]}.${m[2]}.${m[3]}`,
  };
}
