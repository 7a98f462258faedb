// The host-path policy: every path that reaches the engine from outside (a disk to attach, an
// ISO, a kernel, a file to inspect) passes here before anything opens it. The caller may be the
// renderer, which the project treats as untrusted, so the rules hold whoever asks:
//   - symlinks are resolved and the real path is what is checked and recorded, so a link
//     swapped later cannot redirect a VM to another file;
//   - regular files only; a block device only when asked for explicitly;
//   - never a file of Hangar's own data or runtime folders (other VMs' disks, their UEFI
//     variables, sockets, the lock), which no VM may reach except through the engine itself.
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { HangarError } from '../../../shared/errors';

export interface PathPolicy {
  /** $HANGAR_HOME and the runtime dir: nothing below them is ever handed to a VM from outside. */
  protectedRoots: string[];
}

/** What the path is for; used in messages. */
export type PathUse =
  'disk image' | 'ISO image' | 'kernel' | 'initrd' | 'image to inspect' | 'file to copy' | 'file to import';

export interface CheckedPath {
  /** The real path (symlinks resolved): what is recorded and given to QEMU. */
  path: string;
  blockDevice: boolean;
}

function realOf(root: string): string {
  try {
    return realpathSync(root);
  } catch {
    return root;
  }
}

export function pathPolicy(roots: string[]): PathPolicy {
  return { protectedRoots: [...new Set(roots.flatMap((r) => [r, realOf(r)]))] };
}

function inside(path: string, root: string): boolean {
  const r = root.endsWith(sep) ? root : root + sep;
  return path === root || path.startsWith(r);
}

/** Checks one path for one use; throws with what to do, or returns the real path to use. */
export function checkHostPath(
  policy: PathPolicy,
  given: string,
  use: PathUse,
  options: { blockDevice?: boolean } = {},
): CheckedPath {
  if (!given.startsWith('/') || given.includes('\0'))
    throw new HangarError('INVALID_INPUT', `The ${use} path must be absolute: "${given}".`);
  let real: string;
  try {
    real = realpathSync(given);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new HangarError('NOT_FOUND', `The ${use} ${given} does not exist. Check the path.`, {
        path: given,
      });
    if (code === 'ELOOP')
      throw new HangarError('INVALID_INPUT', `The ${use} ${given} is a loop of symbolic links.`, {
        path: given,
      });
    throw new HangarError('IO_ERROR', `The ${use} ${given} cannot be read: ${(err as Error).message}`, {
      path: given,
      errno: code,
    });
  }
  for (const root of policy.protectedRoots) {
    if (inside(real, root)) {
      throw new HangarError(
        'INVALID_INPUT',
        `${given}${real !== given ? ` (really ${real})` : ''} is inside Hangar's own data (${root}): ` +
          'files of other VMs and of Hangar itself cannot be attached. Copy the file elsewhere, or ' +
          'clone that VM instead.',
        { path: given, real },
      );
    }
  }
  const st = lstatSync(real);
  if (st.isFile()) return { path: real, blockDevice: false };
  if (st.isBlockDevice()) {
    if (options.blockDevice && use === 'disk image') return { path: real, blockDevice: true };
    throw new HangarError(
      'INVALID_INPUT',
      use === 'disk image'
        ? `${given} is a block device. A VM writes such a device directly, so it is used only when ` +
            'asked for explicitly (hangar disk add VM --existing DEVICE --block-device).'
        : `${given} is a block device, not a file; a ${use} must be a regular file.`,
      { path: given, real },
    );
  }
  const what = st.isDirectory()
    ? 'a directory'
    : st.isFIFO()
      ? 'a named pipe (FIFO)'
      : st.isSocket()
        ? 'a socket'
        : st.isCharacterDevice()
          ? 'a character device'
          : 'not a regular file';
  throw new HangarError('INVALID_INPUT', `${given} is ${what}; a ${use} must be a regular file.`, {
    path: given,
    real,
  });
}

/**
 * Before a start: an external file recorded earlier must still be the file it was (no symlink
 * has since been put at its path, it is still a regular file or the device it was).
 */
export function recheckRecorded(
  policy: PathPolicy,
  recorded: string,
  use: PathUse,
  blockDevice = false,
): void {
  const checked = checkHostPath(policy, recorded, use, { blockDevice });
  if (checked.path !== recorded) {
    throw new HangarError(
      'CONFLICT',
      `The ${use} ${recorded} has become a link to ${checked.path} since it was attached; Hangar ` +
        'does not follow it. Attach the file again if that is what you want.',
      { path: recorded, real: checked.path },
    );
  }
  if (!blockDevice && !statSync(recorded).isFile())
    throw new HangarError('INVALID_INPUT', `The ${use} ${recorded} is no longer a regular file.`);
}
