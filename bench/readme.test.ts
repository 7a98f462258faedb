import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { block, readmePath, resultsPath, withBlock, type BenchResult } from './readme';

const committed = JSON.parse(readFileSync(resultsPath, 'utf8')) as BenchResult;

describe("the README's benchmark table", () => {
  it('is exactly what the committed results give, every row included', () => {
    const readme = readFileSync(readmePath, 'utf8');
    expect(readme).toContain(block(committed));
    expect(withBlock(readme, committed)).toBe(readme);
    for (const r of committed.rows) expect(readme).toContain(r.figure.replace(/\|/g, '\\|'));
  });

  it('comes from a full run on a clean tree of a commit in this history', () => {
    expect(committed.machine.dirtyFiles).toBe(0);
    expect(committed.machine.quick).toBe(false);
    expect(committed.machine.commit).toMatch(/^[0-9a-f]{40}$/);
    // The commit the figures describe is this one or an ancestor (a shallow clone may lack it).
    let known = true;
    try {
      execFileSync('git', ['cat-file', '-e', `${committed.machine.commit}^{commit}`], { stdio: 'ignore' });
    } catch {
      known = false;
    }
    if (known)
      execFileSync('git', ['merge-base', '--is-ancestor', committed.machine.commit, 'HEAD'], {
        stdio: 'ignore',
      });
  });

  it('notices a row that differs from the results', () => {
    const readme = readFileSync(readmePath, 'utf8');
    const changed: BenchResult = {
      ...committed,
      rows: committed.rows.map((r, i) => (i === 0 ? { ...r, ratio: (r.ratio ?? 1) * 2 } : r)),
    };
    expect(withBlock(readme, changed)).not.toBe(readme);
  });
});
