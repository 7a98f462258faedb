// A shared folder: one host folder the user chose, served to the guest by QEMU's user-mode
// network as an SMB share (QEMU runs Samba's smbd as the user, on demand, with Hangar's smb.conf,
// smb-conf.ts, reachable only from that guest at 10.0.2.4). Any guest that mounts CIFS can use it
// (Linux with the kernel's cifs module, Windows as \\10.0.2.4\qemu); nothing in the guest needs
// installing as root beyond the mount.
//
// What may be shared is stricter than a file to attach, because the guest gets the whole tree,
// often writable: the folder must not be Hangar's own data nor contain it (sharing $HOME would hand
// the guest every other VM's disks), and its path must be one Samba reads literally (it goes into
// smb.conf, where % starts a substitution, a backslash continues the line and a line break starts
// a new setting).
import { existsSync, realpathSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { HangarError } from '../../../shared/errors';
import type { VmConfig } from '../../../shared/vm';
import type { PathPolicy } from '../policy/paths';

/** Samba's server, which QEMU runs for each connection to the share (Debian's samba package). */
export const SMBD = '/usr/sbin/smbd';

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** Samba reads the path literally: no % (a substitution), \\ (a continued line), control character
 * (a line break starts a new setting) nor spaces at an end (trimmed). */
export function sambaReadsLiterally(path: string): boolean {
  // eslint-disable-next-line no-control-regex -- control characters are what is being refused
  return !/[%\\\u0000-\u001f\u007f]/.test(path) && path === path.trim();
}

/** Checks a folder the user chose to share and returns its real path (symlinks resolved). */
export function checkShareFolder(policy: PathPolicy, given: string): string {
  if (!given.startsWith('/') || given.includes('\0'))
    throw new HangarError('INVALID_INPUT', `The folder to share must be an absolute path: "${given}".`);
  let real: string;
  try {
    real = realpathSync(given);
  } catch {
    throw new HangarError('NOT_FOUND', `The folder ${given} does not exist. Check the path.`, {
      path: given,
    });
  }
  if (!statSync(real).isDirectory())
    throw new HangarError('INVALID_INPUT', `${given} is not a folder; share the folder that holds it.`, {
      path: given,
    });
  if (!sambaReadsLiterally(real))
    throw new HangarError(
      'INVALID_INPUT',
      `Samba cannot share ${real}: its path has a %, a backslash, a control character or spaces at an end. ` +
        'Rename it, or share a folder whose path has none.',
      { path: real },
    );
  for (const root of policy.protectedRoots) {
    if (within(real, root) || within(root, real))
      throw new HangarError(
        'INVALID_INPUT',
        within(real, root)
          ? `${given} is inside Hangar's own data (${root}); a guest may not reach it. Share another folder.`
          : `${given} contains Hangar's own data (${root}): the guest could read and change every VM's ` +
              'disks through it. Share a folder inside it that does not hold that data.',
        { path: given, real, protected: root },
      );
  }
  return real;
}

/** Before a start: the recorded folder is still that folder, still shareable, and smbd is there. */
export function recheckShare(vm: VmConfig, policy: PathPolicy): void {
  const share = vm.sharedFolder;
  if (!share) return;
  const real = checkShareFolder(policy, share.path);
  if (real !== share.path)
    throw new HangarError(
      'CONFLICT',
      `The shared folder ${share.path} has become a link to ${real} since it was chosen; Hangar does not ` +
        'follow it. Choose the folder again if that is what you want (hangar edit VM --share DIR).',
      { path: share.path, real },
    );
  if (!shareNic(vm))
    throw new HangarError(
      'INVALID_INPUT',
      `${vm.name} shares ${share.path}, but it has no NAT (user-mode) network card to carry the share. ` +
        'Add one, or stop sharing (hangar edit VM --no-share).',
    );
  if (!existsSync(SMBD))
    throw new HangarError(
      'NOT_FOUND',
      `${vm.name} shares ${share.path}, which needs Samba's server (${SMBD}): install it with ` +
        '"sudo apt-get install --no-install-recommends samba", or stop sharing (hangar edit VM --no-share).',
    );
}

/** The NIC that carries the share: the first user-mode one (QEMU serves SMB on its own NAT). */
export function shareNic(vm: Pick<VmConfig, 'nics'>): string | null {
  return vm.nics.find((n) => n.mode === 'user')?.id ?? null;
}
