// `npm run bench`: Hangar against raw QEMU and QMP, side by side in one run, on the project's test
// guest. Each section fails soft (its error becomes a row) so one broken part never hides the
// rest; every VM and process a section made is cleaned up before the next one starts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { cleanup, machineFacts, QUICK, root } from './lib/env';
import { noteRow, type Row } from './lib/stats';
import { table } from './lib/table';
import { builtAt as servedBuildAt } from './lib/build';

interface Section {
  name: string;
  timeoutMs: number;
  load: () => Promise<{ run: () => Promise<Row[]> }>;
}

// Loaded one by one, so a source file that does not compile (others edit src/ meanwhile) costs
// only the sections that import it.
const SECTIONS: Section[] = [
  { name: 'boot', timeoutMs: 300_000, load: () => import('./sections/boot') },
  { name: 'live', timeoutMs: 300_000, load: () => import('./sections/live') },
  { name: 'reset', timeoutMs: 300_000, load: () => import('./sections/reset') },
  { name: 'backup', timeoutMs: 900_000, load: () => import('./sections/backup') },
  { name: 'engine', timeoutMs: 600_000, load: () => import('./sections/engine') },
  { name: 'crash', timeoutMs: 300_000, load: () => import('./sections/crash') },
  { name: 'consoles', timeoutMs: 300_000, load: () => import('./sections/consoles') },
  { name: 'ui', timeoutMs: 400_000, load: () => import('./sections/ui') },
  { name: 'scale', timeoutMs: 500_000, load: () => import('./sections/scale') },
  { name: 'labs', timeoutMs: 2_400_000, load: () => import('./sections/labs') },
];

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function main(): Promise<number> {
  const only = process.env.HANGAR_BENCH_ONLY?.split(',').map((s) => s.trim());
  const started = new Date();
  const machine = machineFacts();
  console.error(
    `bench: ${machine.cpuModel}, ${machine.cores} cores, ${machine.qemu}${QUICK ? ' (quick)' : ''}`,
  );
  const rows: Row[] = [];
  // The load average beside each section says how busy the machine was (others' tests, say).
  const sections: Record<string, { seconds: number; load1: [number, number]; error?: string }> = {};
  for (const s of SECTIONS) {
    if (only && !only.includes(s.name)) continue;
    const t0 = Date.now();
    const load0 = loadavg()[0]!;
    console.error(`bench: ${s.name}... (load average ${load0.toFixed(2)})`);
    try {
      const mod = await s.load();
      const running = mod.run();
      // After a timeout the section's own promise may still fail later; nobody waits for it then.
      running.catch(() => undefined);
      const got = await withTimeout(running, s.timeoutMs, `section ${s.name}`);
      rows.push(...got);
      sections[s.name] = { seconds: (Date.now() - t0) / 1000, load1: [load0, loadavg()[0]!] };
    } catch (err) {
      const message = (err as Error).stack ?? String(err);
      console.error(`bench: ${s.name} failed: ${message}`);
      rows.push(
        noteRow(
          s.name,
          'section failed',
          'error recorded; the other sections went on',
          (err as Error).message,
        ),
      );
      sections[s.name] = {
        seconds: (Date.now() - t0) / 1000,
        load1: [load0, loadavg()[0]!],
        error: (err as Error).message,
      };
    } finally {
      await cleanup();
    }
    console.error(`bench: ${s.name} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }

  const loads = Object.entries(sections).map(
    ([k, v]) => `${k} ${v.load1.map((l) => l.toFixed(1)).join('→')}`,
  );
  const text = `${table(rows)}\n\nLoad average (1 min) at start→end of each section: ${loads.join(', ')}.`;
  console.log(text);
  const result = {
    format: 1,
    startedAt: started.toISOString(),
    durationSeconds: (Date.now() - started.getTime()) / 1000,
    machine,
    // The build the served sections ran (out/, copied once); the in-process ones ran src/.
    servedBuildAt: servedBuildAt(),
    sections,
    rows,
    markdown: text,
  };
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(result, null, 2) + '\n';
  const stamp = started.toISOString().replace(/[:]/g, '').replace(/\..*/, '');
  const dated = join(dir, `${stamp}-${machine.commit.slice(0, 7) || 'nogit'}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(join(dir, QUICK ? 'latest-quick.json' : 'latest.json'), json);
  writeFileSync(dated, json);
  console.error(`bench: results in ${dated}`);
  // Figures are never judged; only a run that measured nothing at all is a failure.
  return rows.some((r) => r.hangar !== null) ? 0 : 1;
}

let exiting = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (exiting) return;
    exiting = true;
    console.error(`bench: ${sig}, cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  },
);
