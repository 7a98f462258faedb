// Shared by the fault-injection tests: child processes to kill, a /proc scan for QEMUs, and the
// checks every test makes of a Hangar home after a fault (configs parse, no leftovers, one QEMU
// per VM and the engine agrees which run, snapshot metadata matches the images).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/main/engine/engine';
import { diskPath } from '../../src/main/engine/qemu/argv';
import { listSnapshots } from '../../src/main/engine/snapshots';
import { isAlive } from '../../src/main/engine/supervisor/proc';
import { runtimeRoot } from '../../src/main/engine/config/paths';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
export const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/** A TypeScript child (node --import tsx), node itself so that a SIGKILL hits the right process. */
export function tsChild(script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(__dirname, script), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Calls onLine for each stdout line; resolves when a line matches `ready` (rejects on exit first). */
export function waitLine(child: ChildProcess, ready: RegExp, onLine: (l: string) => void = () => undefined) {
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  return new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        onLine(line);
        if (ready.test(line)) resolve();
      }
    });
    child.once('exit', (code, sig) =>
      reject(new Error(`child exited (${code ?? sig}) before ready: ${err}`)),
    );
  });
}

export function killAndReap(child: ChildProcess, sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill(sig);
  });
}

/** Live QEMU processes by their -pidfile argument (zombies excluded). */
export function qemuByPidfile(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!args[0]?.includes('qemu-system')) continue;
    const i = args.indexOf('-pidfile');
    if (i < 0 || !isAlive(pid)) continue;
    const file = args[i + 1]!;
    out.set(file, [...(out.get(file) ?? []), pid]);
  }
  return out;
}

/** Kills every QEMU of a home's runtime dir (test cleanup when an engine is gone). */
export function killQemusOf(home: string, env: NodeJS.ProcessEnv): void {
  const root = runtimeRoot(home, env);
  for (const [file, pids] of qemuByPidfile()) {
    if (!file.startsWith(root + '/')) continue;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** Files an interrupted operation may leave in a Hangar home. */
const LEFTOVER = /\.tmp$|\.new$|\.flat$|\.converting$/;

export interface HomeCheck {
  failures: string[];
  /** Snapshot tags in images without metadata, or metadata whose tag an image lacks. */
  snapshotMismatches: string[];
  running: number;
}

/**
 * Everything that must hold of a home whatever happened to it: every vm.json parses, no half-made
 * files or directories remain, each VM has at most one QEMU and the engine reports exactly the
 * VMs whose QEMU runs, owned disks exist, and snapshot metadata matches the images' tags.
 */
export async function checkHome(engine: Engine): Promise<HomeCheck> {
  const failures: string[] = [];
  const snapshotMismatches: string[] = [];
  const entries = engine.store.list();
  for (const e of entries) if (!e.ok) failures.push(`vm.json of ${e.id} does not parse: ${e.error}`);

  const vmsDir = engine.store.vmsDir;
  for (const name of readdirSync(vmsDir)) {
    const dir = join(vmsDir, name);
    if (!entries.some((e) => e.id === name)) {
      failures.push(`stray entry in vms/: ${name}`);
      continue;
    }
    for (const f of readdirSync(dir)) {
      if (LEFTOVER.test(f)) failures.push(`leftover file ${join(name, f)}`);
    }
    if (existsSync(join(dir, 'disposable')) && engine.isStopped(name))
      failures.push(`leftover disposable/ of stopped VM ${name}`);
  }
  for (const f of readdirSync(engine.home))
    if (LEFTOVER.test(f)) failures.push(`leftover file ${f} in the home`);

  const procs = qemuByPidfile();
  const root = runtimeRoot(engine.home, engine.env);
  let running = 0;
  for (const [file, pids] of procs) {
    if (!file.startsWith(root + '/')) continue;
    const id = file.slice(root.length + 1).split('/')[0]!;
    if (!entries.some((e) => e.id === id)) failures.push(`QEMU ${pids.join(',')} runs for unknown VM ${id}`);
    if (pids.length > 1) failures.push(`VM ${id} has ${pids.length} QEMUs: ${pids.join(', ')}`);
  }
  for (const e of entries) {
    const rt = engine.runtime(e.id);
    const pids = procs.get(engine.paths(e.id).pidFile) ?? [];
    const up = rt.state === 'running' || rt.state === 'paused';
    if (up) running++;
    if (rt.adoptError) failures.push(`VM ${e.id} could not be re-adopted: ${rt.adoptError}`);
    if (up && (pids.length !== 1 || rt.pid !== pids[0]))
      failures.push(`VM ${e.id} is reported ${rt.state} (pid ${rt.pid}) but its QEMUs are [${pids}]`);
    if (!up && pids.length)
      failures.push(`VM ${e.id} is reported ${rt.state} but QEMU ${pids.join(',')} runs for it`);
    if (!e.ok) continue;
    const c = e.config;
    const vmDir = engine.paths(c.id).vmDir;
    for (const d of c.disks) {
      const p = diskPath(c, d, vmDir);
      if (!existsSync(p)) failures.push(`VM ${c.name}: disk ${p} is missing`);
    }
    const before = snapshotMismatches.length;
    for (const d of c.disks.filter((x) => !x.readOnly && x.format === 'qcow2')) {
      const p = diskPath(c, d, vmDir);
      if (!existsSync(p)) continue;
      const tags = new Set(((await engine.img.info(p, 'qcow2')).snapshots ?? []).map((s) => s.name));
      for (const s of c.snapshots)
        if (!tags.has(s.tag)) snapshotMismatches.push(`${c.name}: ${s.tag} in vm.json, not in ${d.id}`);
      const known = new Set(c.snapshots.map((s) => s.tag));
      for (const t of tags)
        if (!known.has(t)) snapshotMismatches.push(`${c.name}: ${t} in ${d.id}, not in vm.json`);
    }
    // Whatever is out of step must show in the snapshot list, where it can be seen and deleted.
    if (snapshotMismatches.length > before) {
      const listed = await listSnapshots(engine, c.id);
      for (const m of snapshotMismatches.slice(before)) {
        const tag = / (hs-[0-9a-f]+|\S+) in /.exec(m)![1]!;
        const e = listed.find((x) => x.tag === tag);
        const shown = e && (e.missingIn.length > 0 || !c.snapshots.some((s) => s.tag === tag));
        if (!shown) failures.push(`not shown in the snapshot list: ${m}`);
      }
    }
  }
  return { failures, snapshotMismatches, running };
}

/** Runs `qemu-img check` (-U: the image may be open) and returns corruptions and leaks. */
export async function imageCheck(engine: Engine, path: string) {
  const out = await engine.img
    .run(['check', '-U', '--output=json', '-f', 'qcow2', path])
    .catch((err: { details?: { stdout?: string } }) => {
      // check exits 2 or 3 when it finds errors or leaks but still prints its report.
      if (err.details?.stdout?.startsWith('{')) return err.details.stdout;
      throw err;
    });
  const r = JSON.parse(out) as { corruptions?: number; leaks?: number; 'check-errors'?: number };
  return { corruptions: r.corruptions ?? 0, leaks: r.leaks ?? 0, errors: r['check-errors'] ?? 0 };
}

export function fileSize(path: string): number {
  return statSync(path).size;
}

/** Prints the figures of a test as a small table, for the README's reliability section. */
export function report(title: string, rows: [string, string | number][]): void {
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log([`== ${title}`, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join('\n'));
}
