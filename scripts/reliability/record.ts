// `npm run reliability:record`: runs the reliability suite as `npm run test:reliability` does and
// keeps what it printed (its figures) in test/reliability/results/latest.json, with the commit and
// whether the tree was clean. The README's reliability figures are written from that file
// (scripts/reliability/readme.ts), so they are the suite's own output of a known commit.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { plain, printedLines, recordPath, root, type ReliabilityRecord } from './readme';

const git = (args: string[]) => spawnSync('git', args, { cwd: root, encoding: 'utf8' }).stdout.trim();
const commit = git(['rev-parse', 'HEAD']);
const dirtyFiles = git(['status', '--porcelain']).split('\n').filter(Boolean).length;
const startedAt = new Date().toISOString();

const child = spawn('npm', ['run', 'test:reliability', '--', '--reporter=default'], {
  cwd: root,
  env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (d: Buffer) => {
  process.stdout.write(d);
  out += d.toString();
});
const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
const summary = plain(out)
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => /^(Test Files|Tests)\s/.test(l));
const record: ReliabilityRecord = {
  commit,
  dirtyFiles,
  startedAt,
  exitCode: code,
  summary,
  printed: printedLines(out),
};
mkdirSync(dirname(recordPath), { recursive: true });
writeFileSync(recordPath, JSON.stringify(record, null, 2) + '\n');
console.error(`reliability: ${record.printed.length} printed lines kept in ${recordPath}`);
process.exit(code);
