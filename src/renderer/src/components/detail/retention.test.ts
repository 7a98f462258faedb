import { describe, expect, it } from 'vitest';
import type { BackupListEntry } from '../../../../shared/backup';
import { parseKeep, prunePlan } from './retention';

describe('parseKeep', () => {
  it('takes whole numbers, an empty field as 0', () => {
    expect(parseKeep({ last: '3', daily: '', weekly: '2' })).toEqual({
      keep: { keepLast: 3, keepDaily: 0, keepWeekly: 2 },
      error: null,
    });
  });

  it('refuses keeping nothing, as the engine does, and numbers it would refuse', () => {
    expect(parseKeep({ last: '0', daily: '0', weekly: '' }).error).toMatch(/nothing would be kept/);
    for (const bad of ['-1', '1.5', 'x', '100001'])
      expect(parseKeep({ last: bad, daily: '1', weekly: '0' }).error).toMatch(/whole number/);
  });
});

describe('prunePlan', () => {
  const entry = (id: string, completedAt: string) => ({ id, completedAt }) as BackupListEntry;
  const a = entry('20260101T000000000Z-aaaaaa', '2026-01-01T00:00:00Z');
  const b = entry('20260102T000000000Z-bbbbbb', '2026-01-02T00:00:00Z');
  const c = entry('20260103T000000000Z-cccccc', '2026-01-03T00:00:00Z');

  it('names points by when they were made, newest first, with the point a removed one merges into', () => {
    const plan = prunePlan(
      {
        repository: '/r',
        vmId: 'v',
        kept: [c.id],
        removed: [a.id, b.id],
        merged: [
          { point: b.id, into: c.id },
          { point: a.id, into: c.id },
        ],
        held: [],
        dryRun: true,
      },
      [a, b, c],
    );
    const when = (x: BackupListEntry) => new Date(x.completedAt).toLocaleString();
    expect(plan.removed).toEqual([
      { id: b.id, when: when(b), mergedInto: when(c) },
      { id: a.id, when: when(a), mergedInto: when(c) },
    ]);
    expect(plan.kept).toEqual([{ id: c.id, when: when(c), heldBy: null }]);
  });

  it('says which VM still reads a point an instant restore holds', () => {
    const plan = prunePlan(
      {
        repository: '/r',
        vmId: 'v',
        kept: [a.id, c.id],
        removed: [],
        merged: [],
        held: [{ point: a.id, vm: 'web-now' }],
        dryRun: true,
      },
      [a, c],
    );
    expect(plan.kept.map((k) => k.heldBy)).toEqual([null, 'web-now']);
  });
});
