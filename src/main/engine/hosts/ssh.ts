// SSH to libvirt hosts: one shared connection per host (OpenSSH's ControlMaster), and stdio
// forwards (ssh -W) to ports on the host's loopback for the graphical console. libvirt runs
// `ssh` itself for qemu+ssh URIs, once per virsh call; a small wrapper given to it as the URI's
// command= parameter adds the ControlMaster options, so every virsh call and every console after
// the first rides one authenticated connection instead of a new handshake each time. Nothing here
// speaks SSH: it is the user's own ssh client with their own ~/.ssh/config, keys and agent.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import { shellWord } from '../shell-word';
import { ensurePrivateDir, runtimeRoot } from '../config/paths';

/** How long an idle shared connection stays up after its last user (seconds). */
const PERSIST_SECONDS = 60;

export interface SshTarget {
  /** ssh (the ssh program), libssh or libssh2 (libraries inside libvirt: no wrapper applies). */
  transport: 'ssh' | 'libssh' | 'libssh2';
  user: string | null;
  host: string;
  port: number | null;
  keyfile: string | null;
  knownHosts: string | null;
  noVerify: boolean;
}

/** A path ssh takes as one option value: no spaces (ssh splits on them), quotes, % or ~ (it expands those). */
const SAFE_PATH = /^\/[A-Za-z0-9._/+,-]+$/;

function safePath(given: string | null, what: string): string | null {
  if (given === null) return null;
  // ssh expands a leading ~ in -i itself; UserKnownHostsFile gets it expanded here alike.
  const value = given.startsWith('~/') ? join(homedir(), given.slice(2)) : given;
  if (!SAFE_PATH.test(value))
    throw new HangarError(
      'INVALID_INPUT',
      `The URI's ${what} must be an absolute path of letters, digits and . _ / + , - only.`,
    );
  return value;
}

/** The SSH side of a libvirt URI, or null when the URI does not go over SSH. */
export function parseSshUri(uri: string): SshTarget | null {
  const m = /^qemu\+(ssh|libssh|libssh2):\/\//.exec(uri);
  if (!m) return null;
  const url = new URL(uri);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new HangarError('INVALID_INPUT', `${uri} names no host: qemu+ssh://user@host/system.`);
  // As libvirt reads its query: percent-escapes decoded, '+' kept (URLSearchParams makes it a space).
  const params = new Map(
    url.search
      .slice(1)
      .split('&')
      .filter(Boolean)
      .map((kv) => {
        const [k, v = ''] = kv.split('=');
        return [k!, decoded(v)] as const;
      }),
  );
  const param = (k: string) => params.get(k) ?? null;
  return {
    transport: m[1] as SshTarget['transport'],
    user: url.username ? decodeURIComponent(url.username) : null,
    host,
    port: url.port ? Number(url.port) : null,
    keyfile: safePath(param('keyfile'), 'keyfile'),
    knownHosts: safePath(param('known_hosts'), 'known_hosts'),
    noVerify: ['1', 'yes', 'true'].includes(param('no_verify') ?? ''),
  };
}

function decoded(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** Where an engine home's shared connections and wrappers live (short: a socket path holds 107 bytes). */
export function sshDir(home: string, env: NodeJS.ProcessEnv): string {
  return join(runtimeRoot(home, env), 'ssh');
}

/** A path, or HOST:PORT, that ssh -L takes as it is (see forward). */
const FORWARDABLE = /^(\/[A-Za-z0-9._/+, -]+|\[?[A-Za-z0-9.:-]+\]?:\d+)$/;

/** A shared connection's socket: the trust tag, then ssh's %C hash of user, host and port. */
export const CONTROL_SOCKET = /^[0-9a-f]{8}-[0-9a-f]{40}$/;

function trustTag(target: SshTarget): string {
  return createHash('sha256')
    .update(JSON.stringify([target.knownHosts, target.noVerify]))
    .digest('hex')
    .slice(0, 8);
}

/**
 * The shared connections of one engine home: a private directory (short, since a socket path may
 * hold 107 bytes) with the control sockets, named by ssh's %C hash of user, host and port, and
 * the wrapper scripts virsh runs as ssh.
 */
export class SshMux {
  constructor(private readonly dir: string) {}

  /** Options every ssh Hangar starts gets: the shared connection, and no prompts it cannot show. */
  private options(target: SshTarget): string[] {
    const opts = [
      '-o',
      'ControlMaster=auto',
      '-o',
      // Per trust setting too: a host checked against one known_hosts never rides a connection
      // that was opened without checking (no_verify) or against another file.
      `ControlPath=${join(this.dir, `${trustTag(target)}-%C`)}`,
      '-o',
      `ControlPersist=${PERSIST_SECONDS}`,
      // The engine has no terminal: a password or passphrase prompt would hang the call. Keys
      // come from the agent or keyfile=; an unknown host key fails with what to do (virsh.ts).
      '-o',
      'BatchMode=yes',
    ];
    // libvirt reads known_hosts= only for its libssh transports; the ssh program gets it here.
    if (target.knownHosts) opts.push('-o', `UserKnownHostsFile=${target.knownHosts}`);
    return opts;
  }

  /** The wrapper for a target's options, written on first use (one per distinct known_hosts). */
  private wrapper(target: SshTarget): string {
    ensurePrivateDir(this.dir);
    const file = join(this.dir, `ssh-${trustTag(target)}.sh`);
    const words = this.options(target).map(shellWord).join(' ');
    const script = `#!/bin/sh\n# Written by Hangar: libvirt's ssh with one shared connection per host.\nexec ssh ${words} "$@"\n`;
    if (!existsSync(file) || readFileSync(file, 'utf8') !== script) {
      // Renamed into place: a virsh of another engine may be running the old one right now.
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, script, { mode: 0o700 });
      renameSync(temp, file);
    }
    return file;
  }

  /** The URI to give virsh -c: the host's own, with command= pointing at the wrapper for ssh. */
  connectUri(uri: string): string {
    const target = parseSshUri(uri);
    if (!target || target.transport !== 'ssh') return uri;
    const sep = uri.includes('?') ? '&' : '?';
    return `${uri}${sep}command=${encodeURIComponent(this.wrapper(target))}`;
  }

  /** ssh's arguments to reach the host: the shared connection, then the URI's own settings. */
  private args(target: SshTarget, extra: string[]): string[] {
    const args = [...this.options(target), '-T', '-e', 'none'];
    if (target.port) args.push('-p', String(target.port));
    if (target.user) args.push('-l', target.user);
    if (target.keyfile) args.push('-i', target.keyfile);
    if (target.noVerify) args.push('-o', 'StrictHostKeyChecking=no');
    return [...args, ...extra, '--', target.host];
  }

  private masters = new Map<string, Promise<void>>();

  /** Makes sure the host's shared connection is up (forwards are asked of it with ssh -O). */
  private ensureMaster(target: SshTarget): Promise<void> {
    const key = JSON.stringify(target);
    let p = this.masters.get(key);
    if (!p) {
      p = (async () => {
        ensurePrivateDir(this.dir);
        if (
          await ssh(this.args(target, ['-O', 'check'])).then(
            () => true,
            () => false,
          )
        )
          return;
        // -f: into the background once logged in; it ends ControlPersist seconds after its last use.
        await ssh(this.args(target, ['-f', '-N']));
      })().finally(() => this.masters.delete(key));
      this.masters.set(key, p);
    }
    return p;
  }

  /**
   * A local UNIX socket, private to this engine, that reaches `remote` on the libvirt host (a
   * socket path there, or HOST:PORT as the host sees it) through the shared connection: how the
   * graphical console reaches a VNC server that listens only on the host itself. cancel() stops
   * the listener; a connection already made through it stays up.
   */
  async forward(uri: string, remote: string): Promise<{ local: string; cancel(): void }> {
    const target = parseSshUri(uri);
    if (!target) throw new HangarError('INTERNAL', `${uri} does not go over SSH.`);
    const local = join(this.dir, `fwd-${randomBytes(6).toString('hex')}.sock`);
    // ssh expands ${VAR}, % tokens and backslashes in a forward's paths (and splits on ':'): a
    // path from the host (domdisplay) or our runtime dir must hold none of them.
    for (const p of [local, remote])
      if (!FORWARDABLE.test(p))
        throw new HangarError(
          'UNSUPPORTED',
          `An SSH forward cannot name ${p}: ssh would rewrite it. Only letters, digits, spaces and . _ / + , - ` +
            'pass (rename the domain, or set HANGAR_RUNTIME_DIR to a plain path).',
        );
    await this.ensureMaster(target);
    const spec = `${local}:${remote}`;
    await ssh(this.args(target, ['-O', 'forward', '-L', spec]));
    let cancelled = false;
    return {
      local,
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        execFile('ssh', this.args(target, ['-O', 'cancel', '-L', spec]), { timeout: 10_000 }, () =>
          rmSync(local, { force: true }),
        );
      },
    };
  }

  /** Ends every shared connection (ssh -O exit); connections in use by others end when they do. */
  async closeAll(): Promise<void> {
    if (!existsSync(this.dir)) return;
    const sockets = readdirSync(this.dir).filter((f) => CONTROL_SOCKET.test(f));
    await Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((resolve) =>
            execFile('ssh', ['-S', join(this.dir, s), '-O', 'exit', 'hangar-host'], { timeout: 5000 }, () =>
              resolve(),
            ),
          ),
      ),
    );
  }
}

/** Runs ssh to its end; a failure carries what ssh said. */
function ssh(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ssh', args, { timeout: 30_000 }, (err, _out, stderr) => {
      if (!err) return resolve();
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT')
        return reject(
          new HangarError('UNSUPPORTED', 'ssh was not found: sudo apt-get install openssh-client.'),
        );
      const said = stderr.trim().split('\n').slice(-3).join(' ') || e.message;
      reject(new HangarError('QEMU_FAILED', `ssh to the libvirt host failed: ${said}`));
    });
  });
}
