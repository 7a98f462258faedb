import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSshUri, SshMux } from './ssh';

const dir = join(mkdtempSync(join(tmpdir(), 'hangar-ssh-unit-')), 'ssh');
afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

describe('parseSshUri', () => {
  it('reads user, host, port and the ssh parameters', () => {
    expect(parseSshUri('qemu+ssh://ops@lab.example:2200/system?keyfile=/k/id&no_verify=1')).toEqual({
      transport: 'ssh',
      user: 'ops',
      host: 'lab.example',
      port: 2200,
      keyfile: '/k/id',
      knownHosts: null,
      noVerify: true,
    });
    expect(parseSshUri('qemu+libssh2://[::1]/system')).toMatchObject({ host: '::1', user: null, port: null });
  });

  it('is null for URIs that are not SSH', () => {
    expect(parseSshUri('qemu:///system')).toBeNull();
    expect(parseSshUri('qemu+tls://h/system')).toBeNull();
  });

  it("reads the query as libvirt does: '+' kept, escapes decoded, a leading ~ as the home", () => {
    expect(parseSshUri('qemu+ssh://h/system?keyfile=/k/id+work')?.keyfile).toBe('/k/id+work');
    expect(parseSshUri('qemu+ssh://h/system?keyfile=%2Fk%2Fid')?.keyfile).toBe('/k/id');
    expect(parseSshUri('qemu+ssh://h/system?known_hosts=~/kh')?.knownHosts).toMatch(/^\/.+\/kh$/);
  });

  it('refuses key paths ssh would split or expand', () => {
    expect(() => parseSshUri('qemu+ssh://h/system?keyfile=%2Fa%20b')).toThrow(/absolute path/);
    expect(() => parseSshUri('qemu+ssh://h/system?known_hosts=~root/kh')).toThrow(/absolute path/);
    expect(() => parseSshUri('qemu+ssh://h/system?keyfile=/a/%25h')).toThrow(/absolute path/);
  });
});

describe('SshMux.connectUri', () => {
  const mux = new SshMux(dir);

  it('leaves URIs that do not run the ssh program alone', () => {
    expect(mux.connectUri('qemu:///system')).toBe('qemu:///system');
    expect(mux.connectUri('qemu+libssh://h/system')).toBe('qemu+libssh://h/system');
  });

  it("adds its wrapper as command=, which runs ssh with the shared connection and the URI's known_hosts", () => {
    const uri = 'qemu+ssh://ops@h/system?known_hosts=/etc/kh';
    const out = mux.connectUri(uri);
    const command = decodeURIComponent(/&command=([^&]+)$/.exec(out)![1]!);
    expect(out.startsWith(`${uri}&command=`)).toBe(true);
    const script = readFileSync(command, 'utf8');
    expect(script).toContain("'ControlMaster=auto'");
    expect(script).toMatch(new RegExp(`'ControlPath=${dir}/[0-9a-f]{8}-%C'`));
    expect(script).toContain("'BatchMode=yes'");
    expect(script).toContain("'UserKnownHostsFile=/etc/kh'");
    // sh runs it with the arguments libvirt passes, each one word.
    const args = execFileSync(
      'sh',
      ['-c', script.replace('exec ssh', 'printf "%s\\n"'), 'wrapper', '-l', 'a b', 'h'],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split('\n');
    expect(args.slice(-3)).toEqual(['-l', 'a b', 'h']);
    expect(mux.connectUri('qemu+ssh://h/system')).toMatch(/\?command=.*%2Fssh-[0-9a-f]{8}\.sh$/);
  });
});

describe('SshMux.forward', () => {
  it('refuses paths ssh would rewrite (${VAR}, % tokens, backslashes, colons) before running ssh', async () => {
    const mux = new SshMux(dir);
    for (const remote of ['/tmp/${HOME}/vnc.sock', '/run/100%/vnc.sock', '/a\\b/vnc.sock', '/a:b/vnc.sock'])
      await expect(mux.forward('qemu+ssh://h/system', remote)).rejects.toThrow(/ssh would rewrite it/);
  });
});
