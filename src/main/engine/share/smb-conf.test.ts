import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smbConf, smbDir, smbGuestfwd, writeSmbConf } from './smb-conf';
import { SMBD } from './folder';

describe('smb.conf for a shared folder', () => {
  it('shares the one folder, read-only when asked, with every state file in the private folder', () => {
    const dir = '/run/user/1000/hangar/abc/smb';
    const ro = smbConf(dir, { path: '/home/u/my project, v2', readOnly: true });
    expect(ro).toContain('[qemu]\n  path = /home/u/my project, v2\n  read only = yes\n  guest ok = yes');
    expect(smbConf(dir, { path: '/home/u/p', readOnly: false })).toContain('read only = no');
    for (const key of [
      'private dir',
      'lock directory',
      'state directory',
      'cache directory',
      'pid directory',
    ])
      expect(ro).toContain(`  ${key} = ${dir}\n`);
    expect(ro).toContain('load printers = no');
  });

  it('refuses a path that would add settings of its own', () => {
    for (const path of ['/home/u/x\n  read only = no', '/home/u/%u', '/home/u/a\\', '/home/u/end '])
      expect(() => smbConf('/run/x/smb', { path, readOnly: true })).toThrow(/Samba cannot share/);
  });

  it('starts smbd by a command libslirp splits into exactly its words', () => {
    const rule = smbGuestfwd("/run/user/0/hangar/it's here");
    expect(rule.str).toBe(
      `tcp:10.0.2.4:445-cmd:'${SMBD}' '-l' '/run/user/0/hangar/it'\\''s here/smb' ` +
        `'-s' '/run/user/0/hangar/it'\\''s here/smb/smb.conf'`,
    );
    // The same splitting rules as GLib's g_shell_parse_argv: a POSIX shell's word splitting.
    const words = execFileSync(
      'sh',
      ['-c', `printf '%s\\n' ${rule.str.slice(rule.str.indexOf('cmd:') + 4)}`],
      {
        encoding: 'utf8',
      },
    );
    expect(words.trimEnd().split('\n')).toEqual([
      SMBD,
      '-l',
      "/run/user/0/hangar/it's here/smb",
      '-s',
      "/run/user/0/hangar/it's here/smb/smb.conf",
    ]);
  });

  it('is written private to the user, where the rule points', () => {
    const run = mkdtempSync(join(tmpdir(), 'hangar-smb-'));
    try {
      writeSmbConf(run, { path: '/srv/data', readOnly: true });
      const conf = join(smbDir(run), 'smb.conf');
      expect(smbGuestfwd(run).str).toContain(conf);
      expect(readFileSync(conf, 'utf8')).toContain('read only = yes');
      // Samba's own parser reads both modes as meant (read-only is Samba's default, so testparm
      // prints only the writable one); setup installs samba, whose smbd serves the share.
      const share = () =>
        execFileSync('testparm', ['-s', conf], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).split('[qemu]')[1];
      expect(share()).toContain('path = /srv/data');
      expect(share()).not.toContain('read only = No');
      writeSmbConf(run, { path: '/srv/data', readOnly: false });
      expect(share()).toContain('read only = No');
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });
});
