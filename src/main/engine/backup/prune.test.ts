import { describe, expect, it } from 'vitest';
import { isoWeek, selectKept } from './prune';

// Points as backup ids sort: by time. p(day, hour) is a point on that day of November 2026 (UTC).
const p = (day: number, hour: number) => {
  const at = new Date(Date.UTC(2026, 10, day, hour));
  return { id: `${at.toISOString().replace(/[-:.]/g, '')}-000000`, completedAt: at.toISOString() };
};

describe('selectKept', () => {
  // Two points a day from Monday 16 to Sunday 29 November 2026.
  const points = Array.from({ length: 14 }, (_, i) => [p(16 + i, 9), p(16 + i, 18)]).flat();
  const ids = (xs: { id: string }[]) => new Set(xs.map((x) => x.id));

  it('keeps the newest N', () => {
    expect(selectKept(points, { last: 3 })).toEqual(ids([p(29, 18), p(29, 9), p(28, 18)]));
  });

  it('keeps the newest of each of the last N days', () => {
    expect(selectKept(points, { daily: 3 })).toEqual(ids([p(29, 18), p(28, 18), p(27, 18)]));
  });

  it('keeps the newest of each of the last N ISO weeks, and unions the rules', () => {
    // Weeks 48 (23-29 Nov) and 47 (16-22 Nov).
    expect(selectKept(points, { weekly: 5 })).toEqual(ids([p(29, 18), p(22, 18)]));
    expect(selectKept(points, { last: 1, daily: 2, weekly: 2 })).toEqual(
      ids([p(29, 18), p(28, 18), p(22, 18)]),
    );
  });

  it('keeps nothing for an empty policy (the caller refuses it) and everything for a large one', () => {
    expect(selectKept(points, {}).size).toBe(0);
    expect(selectKept(points, { last: 1000 }).size).toBe(points.length);
  });
});

describe('isoWeek', () => {
  it('counts weeks from Monday, the first week holding a Thursday', () => {
    expect(isoWeek(new Date('2026-11-23T00:00:00Z'))).toBe('2026-W48');
    expect(isoWeek(new Date('2026-11-29T23:59:59Z'))).toBe('2026-W48');
    expect(isoWeek(new Date('2027-01-01T12:00:00Z'))).toBe('2026-W53');
    expect(isoWeek(new Date('2024-12-30T12:00:00Z'))).toBe('2025-W01');
  });
});
