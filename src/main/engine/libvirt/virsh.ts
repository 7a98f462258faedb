// libvirt through its own client: `virsh -c URI ...` as a child process with an argv array (no
// shell, so no domain name or path is ever parsed as shell text), a timeout per call, and errors
// that say what to install or start. Also virt-xml-validate, libvirt's schema check.
import { execFile, spawn } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HangarError } from '../../../shared/errors';

export const DEFAULT_URI = 'qemu:///system';
const INSTALL_CLIENTS = "Install libvirt's client: sudo apt-get install libvirt-clients.";

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      { timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        Object.assign(err, { stdout, stderr });
        reject(err);
      },
    );
  });
}

/** The last line virsh printed as "error: ...", without the prefix. */
function virshMessage(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.replace(/^error:\s*/, ''));
  return lines.join(' ').slice(0, 2000) || 'no message';
}

/** The domain names virsh accepts as one argument; '--' before it keeps a leading dash harmless. */
export interface VirshOptions {
  uri?: string;
  /** What virsh -c gets when it differs from the URI shown in messages (ssh's command= added). */
  connect?: string;
  bin?: string;
  timeoutMs?: number;
}

export type DomainState =
  | 'running'
  | 'paused'
  | 'shut off'
  | 'shutdown'
  | 'crashed'
  | 'pmsuspended'
  | 'idle'
  | 'in shutdown'
  | 'blocked'
  | 'no state';

export class Virsh {
  readonly uri: string;
  /** The URI virsh connects with; `uri` is the one the user gave, for messages. */
  readonly connect: string;
  private readonly bin: string;
  private readonly timeoutMs: number;

  constructor(opts: VirshOptions = {}) {
    this.uri = opts.uri ?? DEFAULT_URI;
    this.connect = opts.connect ?? this.uri;
    this.bin = opts.bin ?? 'virsh';
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  /** Runs `virsh -c URI ARGS`; stdout on success, a HangarError saying what to do otherwise. */
  async run(args: string[], timeoutMs = this.timeoutMs): Promise<string> {
    try {
      return (await run(this.bin, ['-q', '-c', this.connect, ...args], timeoutMs)).stdout;
    } catch (e) {
      throw this.failure(e, args, timeoutMs);
    }
  }

  /**
   * Runs virsh on a local file it reads (vol-upload --file FILE) and reports how far it has read,
   * from the file position the kernel shows in /proc/PID/fdinfo. (Its stdin cannot carry the data:
   * Node gives a child a socket there, which virsh cannot open as /dev/stdin.) No timeout: an
   * upload takes as long as the link needs.
   */
  runReading(args: string[], file: string, onRead: (bytes: number) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, ['-q', '-c', this.connect, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
      // /proc shows the path the file was opened by, with every symlink resolved.
      const real = realpathSync(file);
      const timer = setInterval(() => {
        const pos = child.pid ? readPosition(child.pid, real) : null;
        if (pos !== null) onRead(pos);
      }, 500);
      child.on('error', (err) => {
        clearInterval(timer);
        reject(this.failure(err, args, 0));
      });
      // 'close', not 'exit': stderr is read to its end first, so the error keeps virsh's words.
      child.on('close', (code, signal) => {
        clearInterval(timer);
        if (code === 0) return resolve();
        const err = Object.assign(new Error(`exit ${code ?? signal}`), { stderr, signal });
        reject(this.failure(err, args, 0));
      });
    });
  }

  private failure(e: unknown, args: string[], timeoutMs: number): HangarError {
    const err = e as NodeJS.ErrnoException & { stderr?: string; killed?: boolean; signal?: string };
    if (err.code === 'ENOENT')
      return new HangarError('UNSUPPORTED', `virsh was not found (${this.bin}). ${INSTALL_CLIENTS}`, {
        bin: this.bin,
      });
    if (err.killed || err.signal === 'SIGTERM')
      return new HangarError(
        'TIMEOUT',
        `virsh ${args[0]} on ${this.uri} did not answer within ${timeoutMs} ms.`,
        {
          uri: this.uri,
          args,
        },
      );
    const message = virshMessage(err.stderr ?? err.message);
    // ssh runs without a terminal (hosts/ssh.ts: BatchMode), so what it would have asked is said here.
    if (/Host key verification failed/i.test(message))
      return new HangarError(
        'UNSUPPORTED',
        `ssh does not know the host key of ${this.uri} yet. Connect once yourself with ssh to check and ` +
          'accept it, then try again.',
        { uri: this.uri, args },
      );
    if (/Permission denied \(/i.test(message))
      return new HangarError(
        'UNSUPPORTED',
        `ssh could not log in to ${this.uri}: ${message}. Hangar's ssh cannot ask for a password or a ` +
          "passphrase: load the key into your agent (ssh-add), or name it in the URI's keyfile= parameter.",
        { uri: this.uri, args },
      );
    if (
      /failed to connect|Failed to connect socket|no connection driver|Cannot recv data|cannot connect/i.test(
        message,
      )
    )
      return new HangarError(
        'UNSUPPORTED',
        `libvirt is not reachable at ${this.uri}: ${message}. Start it (systemctl start libvirtd, or ` +
          'without systemd: virtlogd -d && libvirtd -d); it comes with sudo apt-get install ' +
          'libvirt-daemon-system. For a remote URI, check the SSH connection.',
        { uri: this.uri, args },
      );
    if (/Domain not found|failed to get domain|no domain with matching/i.test(message))
      return new HangarError('NOT_FOUND', `libvirt on ${this.uri}: ${message}`, { uri: this.uri, args });
    if (/Storage pool not found|no storage pool with matching|failed to get pool/i.test(message))
      return new HangarError(
        'NOT_FOUND',
        `libvirt on ${this.uri}: ${message}. Make a pool there first, for example: virsh pool-define-as ` +
          'default dir --target /var/lib/libvirt/images && virsh pool-build default && virsh pool-start default ' +
          '&& virsh pool-autostart default.',
        { uri: this.uri, args },
      );
    if (/Storage volume not found|no storage vol with matching|failed to get vol/i.test(message))
      return new HangarError('NOT_FOUND', `libvirt on ${this.uri}: ${message}`, { uri: this.uri, args });
    return new HangarError('QEMU_FAILED', `virsh ${args[0]} on ${this.uri} failed: ${message}`, {
      uri: this.uri,
      args,
    });
  }

  /** The libvirt and hypervisor versions, e.g. { library: '9.0.0', hypervisor: 'QEMU 7.2.0' }. */
  async version(): Promise<{ library: string | null; hypervisor: string | null }> {
    const out = await this.run(['version']);
    return {
      library: /Using library: libvirt ([\d.]+)/.exec(out)?.[1] ?? null,
      hypervisor: /Running hypervisor: (.+)/.exec(out)?.[1]?.trim() ?? null,
    };
  }

  /** Defines (or redefines) a persistent domain from XML; returns its name as libvirt reports it. */
  async define(xml: string): Promise<void> {
    await withTempFile(xml, (file) => this.run(['define', '--validate', file]));
  }

  async start(name: string): Promise<void> {
    await this.run(['start', '--', name]);
  }

  /** A power cut: the domain stops at once. */
  async destroy(name: string): Promise<void> {
    await this.run(['destroy', '--', name]);
  }

  /** Removes the definition with its snapshot metadata and NVRAM; disks are never touched. */
  async undefine(name: string): Promise<void> {
    await this.run(['undefine', '--snapshots-metadata', '--nvram', '--', name]);
  }

  async snapshotCreate(name: string, snapshot: string, description?: string): Promise<void> {
    const args = ['snapshot-create-as', '--domain', name, '--name', snapshot];
    if (description) args.push('--description', description);
    await this.run(args, 10 * 60_000);
  }

  async snapshotList(name: string): Promise<string[]> {
    const out = await this.run(['snapshot-list', '--name', '--', name]);
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }

  async snapshotRevert(name: string, snapshot: string): Promise<void> {
    await this.run(['snapshot-revert', '--domain', name, '--snapshotname', snapshot], 10 * 60_000);
  }

  async domstate(name: string): Promise<DomainState> {
    return (await this.run(['domstate', '--', name])).trim() as DomainState;
  }

  async dumpxml(name: string, inactive = false): Promise<string> {
    return this.run(['dumpxml', ...(inactive ? ['--inactive'] : []), '--', name]);
  }

  /** Names of every domain (running or not). */
  async list(): Promise<string[]> {
    const out = await this.run(['list', '--all', '--name']);
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }
}

/** Where process `pid` is in `file`, or null when it has not opened it (or /proc says nothing). */
function readPosition(pid: number, file: string): number | null {
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== file) continue;
      const pos = /^pos:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (pos) return Number(pos[1]);
    }
  } catch {
    // The process ended or /proc is not there: no reading this time.
  }
  return null;
}

async function withTempFile<T>(content: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-virsh-'));
  const file = join(dir, 'domain.xml');
  try {
    writeFileSync(file, content, { mode: 0o600 });
    return await use(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * libvirt's own schema check (virt-xml-validate FILE domain). Resolves with nothing when the XML
 * is valid; throws with the validator's words when it is not or the tool is missing.
 */
export async function validateDomainXml(xml: string, bin = 'virt-xml-validate'): Promise<void> {
  await withTempFile(xml, async (file) => {
    try {
      await run(bin, [file, 'domain'], 60_000);
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
      if (err.code === 'ENOENT')
        throw new HangarError(
          'UNSUPPORTED',
          `${bin} was not found. ${INSTALL_CLIENTS} It also needs xmllint: sudo apt-get install libxml2-utils.`,
        );
      const said = `${err.stderr ?? ''}${err.stdout ?? ''}`.replaceAll(file, 'domain.xml').trim();
      throw new HangarError(
        'INVALID_INPUT',
        `libvirt's schema refuses the domain XML: ${said.slice(0, 4000)}`,
      );
    }
  });
}
