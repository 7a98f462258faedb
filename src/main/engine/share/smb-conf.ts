// The SMB server behind a shared folder. QEMU's own `smb=` option always writes a read-write
// share, so Hangar writes the smb.conf itself (in the VM's private runtime folder) and asks QEMU's
// user-mode network to run smbd for each connection to 10.0.2.4:445 (a `guestfwd` to a command,
// the mechanism `smb=` uses underneath): smbd then speaks SMB on its stdin, as it does under inetd,
// and is reachable only from that guest.
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import { shellWord } from '../shell-word';
import { SHARE_HOST, SHARE_NAME } from '../../../shared/share';
import type { VmConfig } from '../../../shared/vm';

type SmbShare = Pick<NonNullable<VmConfig['sharedFolder']>, 'path' | 'readOnly'>;
import { SMBD, sambaReadsLiterally } from './folder';

/** Where the server's configuration and private state live: a folder of the VM's runtime dir. */
export function smbDir(runDir: string): string {
  return join(runDir, 'smb');
}

/** The guestfwd rule that starts smbd for each connection the guest opens to the share's address. */
export function smbGuestfwd(runDir: string): { str: string } {
  const dir = smbDir(runDir);
  // libslirp splits a guestfwd command like a shell would (no shell runs): quote each word.
  const cmd = [SMBD, '-l', dir, '-s', join(dir, 'smb.conf')].map(shellWord).join(' ');
  return { str: `tcp:${SHARE_HOST}:445-cmd:${cmd}` };
}

/** The account smbd maps guests to: the user Hangar runs as, when its name is a plain one. */
function forceUser(): string | null {
  const name = userInfo().username;
  return /^[a-z_][a-z0-9_.-]{0,31}$/i.test(name) ? name : null;
}

/**
 * The smb.conf: one share, guests allowed and mapped to this user, every state file inside `dir`
 * (smbd runs unprivileged, so nothing may point at /var or /run), no printers, no user shares.
 * The folder's path was checked by checkShareFolder: nothing in it that smb.conf would read as a
 * substitution (%), a continued line (\) or a new setting (a line break).
 */
export function smbConf(dir: string, share: SmbShare): string {
  // Checked when chosen and at each start; checked again here because a line break in it would
  // add settings of its own to the file.
  if (!sambaReadsLiterally(share.path))
    throw new HangarError(
      'INVALID_INPUT',
      `Samba cannot share ${JSON.stringify(share.path)}: its path has a %, a backslash, a control character ` +
        'or spaces at an end. Share another folder (hangar edit VM --share DIR).',
    );
  if (!sambaReadsLiterally(dir))
    throw new HangarError(
      'INVALID_INPUT',
      `Samba cannot use the runtime folder ${JSON.stringify(dir)}; set HANGAR_RUNTIME_DIR to a plain path.`,
    );
  const user = forceUser();
  const global = {
    'private dir': dir,
    'lock directory': dir,
    'state directory': dir,
    'cache directory': dir,
    'pid directory': dir,
    'ncalrpc dir': join(dir, 'ncalrpc'),
    'log file': join(dir, 'log.smbd'),
    'smb passwd file': join(dir, 'smbpasswd'),
    security: 'user',
    'map to guest': 'Bad User',
    'load printers': 'no',
    printing: 'bsd',
    'disable spoolss': 'yes',
    'usershare max shares': '0',
  };
  const shareSection = {
    path: share.path,
    'read only': share.readOnly ? 'yes' : 'no',
    'guest ok': 'yes',
    ...(user ? { 'force user': user } : {}),
  };
  const lines = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `  ${k} = ${v}`);
  return ['[global]', ...lines(global), `[${SHARE_NAME}]`, ...lines(shareSection), ''].join('\n');
}

/** Writes the configuration before QEMU starts (the folder is private: the runtime dir is 0700). */
export function writeSmbConf(runDir: string, share: SmbShare): void {
  const dir = smbDir(runDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'smb.conf'), smbConf(dir, share), { mode: 0o600 });
}
