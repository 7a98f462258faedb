// A throwaway OpenSSH server for qemu+ssh:// tests: on 127.0.0.1 only, a free port, its own host
// key, one client key allowed to log in as the current user, and a known_hosts file holding the
// host key (so the tests verify the host as a user's ssh would, and never touch ~/.ssh).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

const SSHD = '/usr/sbin/sshd';

/** Why the SSH tests cannot run here, or null when they can. */
export function sshdSkipReason(): string | null {
  if (!existsSync(SSHD))
    return 'sshd is not installed: sudo apt-get install --no-install-recommends openssh-server';
  if (process.getuid?.() !== 0) return 'the throwaway sshd must run as root (privilege separation)';
  return null;
}

export interface RunningSshd {
  port: number;
  user: string;
  /** The client's private key. */
  keyfile: string;
  /** A known_hosts file holding this server's key. */
  knownHosts: string;
  /** qemu+ssh://user@127.0.0.1:PORT/system with keyfile= and known_hosts=. */
  libvirtUri: string;
  log(): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(port, '127.0.0.1');
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('SSH-'));
    });
    s.once('error', () => resolve(false));
  });
}

export async function startSshd(): Promise<RunningSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-sshd-'));
  const key = (name: string) => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
    return readFileSync(join(dir, `${name}.pub`), 'utf8').trim();
  };
  const hostPub = key('host_key');
  const clientPub = key('client_key');
  writeFileSync(join(dir, 'authorized_keys'), `${clientPub}\n`);
  const port = await freePort();
  writeFileSync(
    join(dir, 'known_hosts'),
    `[127.0.0.1]:${port} ${hostPub.split(' ').slice(0, 2).join(' ')}\n`,
  );
  const user = userInfo().username;
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `AllowUsers ${user}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The key files live in a temporary folder, not in a home sshd would check.
      'StrictModes no',
      `PidFile ${join(dir, 'sshd.pid')}`,
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation folder
  const logFile = join(dir, 'sshd.log');
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config'), '-E', logFile], {
    stdio: 'ignore',
  });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : '');
  const end = Date.now() + 20_000;
  while (!(await answers(port))) {
    if (Date.now() > end || child.exitCode !== null) {
      child.kill();
      throw new Error(`sshd did not start on port ${port}:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const keyfile = join(dir, 'client_key');
  const knownHosts = join(dir, 'known_hosts');
  return {
    port,
    user,
    keyfile,
    knownHosts,
    libvirtUri: `qemu+ssh://${user}@127.0.0.1:${port}/system?keyfile=${keyfile}&known_hosts=${knownHosts}`,
    log,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
