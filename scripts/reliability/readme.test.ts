import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { block, printedLines, readmePath, recordPath, withBlock, type ReliabilityRecord } from './readme';

const record = JSON.parse(readFileSync(recordPath, 'utf8')) as ReliabilityRecord;

describe("the README's reliability figures", () => {
  it('are exactly what the recorded run printed', () => {
    const readme = readFileSync(readmePath, 'utf8');
    expect(readme).toContain(block(record));
    expect(record.printed.length).toBeGreaterThan(0);
    for (const p of record.printed) for (const line of p.lines) expect(readme).toContain(line);
  });

  it('come from a passing run on a clean tree of a commit in this history', () => {
    expect(record.dirtyFiles).toBe(0);
    expect(record.exitCode).toBe(0);
    expect(record.summary.join(' ')).not.toMatch(/failed/);
    let known = true;
    try {
      execFileSync('git', ['cat-file', '-e', `${record.commit}^{commit}`], { stdio: 'ignore' });
    } catch {
      known = false;
    }
    if (known)
      execFileSync('git', ['merge-base', '--is-ancestor', record.commit, 'HEAD'], { stdio: 'ignore' });
  });

  it("takes each test file's printed lines from vitest's output", () => {
    const out = [
      ' ✓ test/reliability/a.test.ts (1 test)',
      '\x1b[90mstdout\x1b[2m | test/reliability/a.test.ts\x1b[2m > \x1b[22msuite > test',
      '== torn writes',
      '  kills  40',
      '',
      'stdout | test/reliability/b.test.ts > x',
      'paths: 366 calls, 0 accepted',
      '',
      ' Test Files  2 passed (2)',
    ].join('\n');
    expect(printedLines(out)).toEqual([
      { file: 'test/reliability/a.test.ts', lines: ['== torn writes', '  kills  40'] },
      { file: 'test/reliability/b.test.ts', lines: ['paths: 366 calls, 0 accepted'] },
    ]);
    expect(withBlock(`x\n${block(record)}\ny`, record)).toBe(`x\n${block(record)}\ny`);
  });
});
