// A provisioning step run over ssh (`via: ssh` in the lab file), for guests without the agent:
// OpenSSH's own client, through the VM's forward to guest port 22, with Hangar's key (cloud
// images get it in their seed). BatchMode: a guest that wants a password fails instead of waiting
// on a prompt nobody sees.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import type { VmConfig } from '../../../shared/vm';

const MAX_OUTPUT = 1024 * 1024;

export interface SshResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** The host port forwarded to the guest's sshd and the user to log in as. */
export function sshTarget(config: VmConfig): { port: number; user: string } {
  const f = config.nics
    .filter((n) => n.mode === 'user')
    .flatMap((n) => n.portForwards)
    .find((p) => p.guestPort === 22 && p.protocol === 'tcp');
  if (!f)
    throw new HangarError(
      'CONFLICT',
      `"${config.name}" has no forward to guest port 22 for ssh; add one to "forwards" (e.g. 2222:22) or provision through the agent.`,
    );
  return { port: f.hostPort, user: config.cloudInit?.user ?? 'root' };
}

/**
 * OpenSSH's options for a VM's forwarded sshd with Hangar's key. `batch`: no prompts (a script
 * runs it); without it a user at a terminal may still type a password.
 */
export function sshArgs(
  home: string,
  target: { host: string; port: number; user: string },
  batch: boolean,
): string[] {
  return [
    '-i',
    join(home, 'ssh', 'id_ed25519'),
    '-p',
    String(target.port),
    ...(batch ? ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20'] : []),
    // Each VM (and each clone) has its own host key on a port of its own: pinning them in
    // ~/.ssh/known_hosts would only collide. The connection stays on this host.
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    `${target.user}@${target.host}`,
  ];
}

/** Runs `command` through the guest's login shell, as `ssh host 'command'` does. */
export function sshRun(
  home: string,
  config: VmConfig,
  command: string,
  timeoutMs: number,
): Promise<SshResult> {
  const { port, user } = sshTarget(config);
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', [...sshArgs(home, { host: '127.0.0.1', port, user }, true), '--', command], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    const keep = (k: 'stdout' | 'stderr') => (b: Buffer) => {
      if (out[k].length < MAX_OUTPUT) out[k] += b.toString('utf8');
    };
    child.stdout.on('data', keep('stdout'));
    child.stderr.on('data', keep('stderr'));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new HangarError('UNSUPPORTED', `Could not run ssh (${err.message}); install openssh-client.`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code, signal, ...out });
    });
  });
}
