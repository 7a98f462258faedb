// A real libvirtd for integration tests. These machines have no systemd, so the test starts
// virtlogd and libvirtd itself (in the foreground, as children of the test process, which reaps
// them at once), in the standard runtime dir (/run/libvirt: the qemu driver finds virtlogd there),
// waits until virsh answers, and stops both afterwards. A libvirtd that was already running is
// used and left running.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Virsh } from '../../src/main/engine/libvirt/virsh';

export const URI = 'qemu:///system';
const SOCKET = '/run/libvirt/libvirt-sock';
const LOG_SOCKET = '/run/libvirt/virtlogd-sock';

function onPath(bin: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin'])) {
    const p = join(dir, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Why the libvirt tests cannot run here, or null when they can. */
export function libvirtSkipReason(): string | null {
  const missing = ['virsh', 'libvirtd', 'virtlogd', 'virt-xml-validate', 'xmllint'].filter((b) => !onPath(b));
  if (missing.length)
    return (
      `libvirt is not installed (missing ${missing.join(', ')}): sudo apt-get install ` +
      '--no-install-recommends libvirt-daemon-system libvirt-clients libxml2-utils'
    );
  if (process.getuid?.() !== 0)
    return 'the libvirt integration test starts qemu:///system and must run as root';
  return null;
}

export interface RunningLibvirtd {
  uri: string;
  virsh: Virsh;
  /** True when this helper started the daemons (and so stops them). */
  started: boolean;
  /** The daemons' own output, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitExit(child, 15_000))) {
    child.kill('SIGKILL');
    await waitExit(child, 5_000);
  }
}

/** A socket file can outlive its daemon; only a connection says someone listens. */
function listening(path: string): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function answers(virsh: Virsh): Promise<boolean> {
  try {
    await virsh.run(['version'], 60_000);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms: number, log: () => string) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} within ${ms / 1000} s. Daemon output:\n${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startLibvirtd(): Promise<RunningLibvirtd> {
  const virsh = new Virsh({ uri: URI });
  const dir = mkdtempSync(join(tmpdir(), 'hangar-libvirtd-'));
  const logFile = join(dir, 'daemons.log');
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-8000) : '');
  if ((await listening(SOCKET)) && (await answers(virsh))) {
    return {
      uri: URI,
      virsh,
      started: false,
      log,
      stop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const fd = openSync(logFile, 'a');
  let virtlogd: ChildProcess | null = null;
  let libvirtd: ChildProcess | null = null;
  const stop = async () => {
    await stopChild(libvirtd);
    await stopChild(virtlogd);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const stdio: ['ignore', number, number] = ['ignore', fd, fd];
    if (!(await listening(LOG_SOCKET))) {
      virtlogd = spawn(onPath('virtlogd')!, [], { stdio });
      await until('virtlogd did not listen', () => listening(LOG_SOCKET), 20_000, log);
    }
    // KVM is present but unusable here (facts.md): libvirt 9.0 then finds its cached QEMU
    // capabilities stale on every define and probes QEMU again (15 to 100 s each time). The
    // daemon gets a mount namespace where /dev/kvm is a root-only null device: libvirt sees a
    // device QEMU's user cannot open, so it probes once without KVM, caches, and trusts the
    // cache after. (/dev/null itself is open to everyone, so libvirt kept expecting KVM that the
    // probe never found; a plain file cannot be moved into a domain's /dev.) Domains are 'qemu'.
    const hideKvm = existsSync('/dev/kvm') && onPath('unshare') !== null;
    const noKvm = join(dir, 'no-kvm');
    libvirtd = hideKvm
      ? spawn(
          onPath('unshare')!,
          [
            '--mount',
            '--propagation',
            'private',
            '--',
            'sh',
            '-c',
            'mknod -m 600 "$1" c 1 3 && mount --bind "$1" /dev/kvm && exec "$0"',
            onPath('libvirtd')!,
            noKvm,
          ],
          { stdio },
        )
      : spawn(onPath('libvirtd')!, [], { stdio });
    const exited = () => libvirtd!.exitCode !== null || libvirtd!.signalCode !== null;
    await until('libvirtd did not listen', async () => exited() || (await listening(SOCKET)), 30_000, log);
    if (exited()) throw new Error(`libvirtd exited at once (${libvirtd.exitCode}):\n${log()}`);
    // The first connection waits for the QEMU capabilities probe (about 10 s here).
    await until('libvirtd did not answer virsh', () => answers(virsh), 90_000, log);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    closeSync(fd);
  }
  return { uri: URI, virsh, started: true, log, stop };
}
