import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogWriter, rotateAtStart } from './log-writer';

describe('per-VM logs', () => {
  it('keeps lines in order and rotates once past the cap, so at most twice the cap stays', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hangar-log-')), 'qmp.log');
    const log = new LogWriter(path, 10_000);
    for (let i = 0; i < 1000; i++) log.line(`line ${i} ${'x'.repeat(50)}`);
    await log.drain();
    const now = readFileSync(path, 'utf8').trim().split('\n');
    const old = readFileSync(`${path}.1`, 'utf8').trim().split('\n');
    expect(statSync(path).size).toBeLessThanOrEqual(10_000 + 100);
    expect(now.at(-1)).toMatch(/line 999 /);
    // The two files hold consecutive lines: nothing was reordered across the rotation.
    const n = (l: string) => Number(/line (\d+)/.exec(l)![1]);
    expect(n(now[0]!)).toBe(n(old.at(-1)!) + 1);
    expect(existsSync(`${path}.2`)).toBe(false);
  });

  it('rotates a log QEMU writes itself when it is over the cap at start', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hangar-log-')), 'serial.log');
    writeFileSync(path, 'x'.repeat(200));
    rotateAtStart(path, 100);
    expect(existsSync(path)).toBe(false);
    expect(readFileSync(`${path}.1`, 'utf8')).toHaveLength(200);
    writeFileSync(path, 'small');
    rotateAtStart(path, 100);
    expect(readFileSync(path, 'utf8')).toBe('small');
  });
});
