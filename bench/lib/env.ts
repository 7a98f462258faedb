// Throwaway homes, the test guest, /proc readers and the cleanup that must run however a section
// ends: a benchmark that leaves QEMUs behind skews every run after it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const guestDir = join(root, '.cache', 'guest');
export const QUICK = process.env.HANGAR_BENCH_QUICK === '1';
/** Repetitions: full, or HANGAR_BENCH_QUICK=1. */
export const reps = (full: number, quick: number): number => (QUICK ? quick : full);

/** A progress line on stderr, so a slow or stuck step can be told from the others. */
export const step = (msg: string) => console.error(`bench:   ${msg}`);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => performance.now();

export interface Guest {
  kernel: string;
  initrd: string;
  cmdline: string;
  readyMarker: string;
  prompt: string;
}

export function guest(): Guest {
  const manifest = JSON.parse(readFileSync(join(guestDir, 'manifest.json'), 'utf8')) as {
    directCmdline: string;
    readyMarker: string;
    prompt: string;
  };
  return {
    kernel: join(guestDir, 'vmlinuz'),
    initrd: join(guestDir, 'initrd.img'),
    cmdline: manifest.directCmdline,
    readyMarker: manifest.readyMarker,
    prompt: manifest.prompt,
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
/** Registers work for cleanup(); the newest runs first. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}
export async function cleanup(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      console.error(`bench: cleanup step failed: ${(err as Error).message}`);
    }
  }
}

let probeCache: string | null = null;

export interface Home {
  home: string;
  runtime: string;
  env: NodeJS.ProcessEnv;
  /** Kills QEMUs left in this home's runtime dir and removes both directories. */
  dispose(): void;
}

export function tempHome(tag: string): Home {
  const home = mkdtempSync(join(tmpdir(), `hangar-bench-${tag}-`));
  // Short: UNIX socket paths are limited to 107 bytes.
  const runtime = mkdtempSync('/tmp/hb-');
  const env = {
    ...process.env,
    HANGAR_HOME: home,
    HANGAR_RUNTIME_DIR: runtime,
    HANGAR_ACCEL: 'tcg',
    HOME: home,
  };
  // The host probe is keyed on the binaries, not the home: reuse the first one, it costs seconds.
  if (probeCache && existsSync(probeCache)) {
    mkdirSync(join(home, 'cache'), { recursive: true });
    copyFileSync(probeCache, join(home, 'cache', 'probe.json'));
  } else {
    probeCache = null;
  }
  let disposed = false;
  const h: Home = {
    home,
    runtime,
    env,
    dispose() {
      if (disposed) return;
      disposed = true;
      killQemus(runtime);
      rmSync(home, { recursive: true, force: true });
      rmSync(runtime, { recursive: true, force: true });
    },
  };
  onCleanup(() => h.dispose());
  return h;
}

/** Remembers a probed home's cache so later homes skip the probe. */
export function rememberProbe(home: string): void {
  const f = join(home, 'cache', 'probe.json');
  if (existsSync(f)) {
    const dir = mkdtempSync(join(tmpdir(), 'hangar-bench-probe-'));
    copyFileSync(f, join(dir, 'probe.json'));
    probeCache = join(dir, 'probe.json');
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
}

/** SIGKILLs every QEMU whose pidfile lies under `dir` and whose cmdline names that pidfile. */
export function killQemus(dir: string): void {
  const pidfiles = spawnSync('find', [dir, '-name', 'qemu.pid'], { encoding: 'utf8' }).stdout.split('\n');
  for (const file of pidfiles.filter(Boolean)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(file)) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Resident memory in KiB (VmRSS). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/**
 * CPU time of every thread of `pid`, in ns, by thread id. schedstat's first field is exact where
 * stat's utime+stime come in 10 ms ticks, too coarse for an idle engine sampled each second.
 */
export function threadCpuNs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** CPU ns used between two threadCpuNs samples; a thread born in between counts in full. */
export function cpuDeltaNs(before: Map<string, number>, after: Map<string, number>): number {
  let sum = 0;
  for (const [tid, ns] of after) sum += ns - (before.get(tid) ?? 0);
  return sum;
}

export function machineFacts() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const mem = /MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
  const qemu = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  const git = (args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout.trim();
  let os = '';
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    // not fatal
  }
  return {
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? 'unknown',
    cores: (cpuinfo.match(/^processor\s*:/gm) ?? []).length,
    memoryMiB: mem ? Math.round(Number(mem[1]) / 1024) : null,
    os,
    kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(),
    node: process.version,
    qemu: qemu ?? 'unknown',
    accel: 'tcg',
    commit: git(['rev-parse', 'HEAD']),
    dirtyFiles: git(['status', '--porcelain']).split('\n').filter(Boolean).length,
    quick: QUICK,
  };
}
