import { describe, expect, it } from 'vitest';
import { ProgressGate } from './progress-gate';

describe('progress events', () => {
  it('pass at most one report per VM and step in each 100 ms, and always a new step and the end', () => {
    const g = new ProgressGate(100);
    const sent = [0, 10, 50, 99, 100, 150, 230].filter((t, i) => g.pass('vm', 'copying', i * 5, t));
    expect(sent).toEqual([0, 100, 230]);
    expect(g.pass('vm', 'checking', 40, 231)).toBe(true);
    expect(g.pass('vm', 'checking', 100, 232)).toBe(true);
    // Other VMs are counted on their own.
    expect(g.pass('other', 'copying', 1, 232)).toBe(true);
  });
});
