import { describe, expect, it } from 'vitest';
import { formatSnapshots } from './format';

const snap = (over: object) => ({
  id: 's1',
  tag: 'hs-1',
  name: 'clean',
  description: '',
  createdAt: '2026-11-29T03:00:00.000Z',
  parent: null,
  vmState: true,
  current: true,
  missingIn: [],
  ramBytes: 100 * 2 ** 20,
  ownBytes: 101 * 2 ** 20,
  thumbnail: false,
  ...over,
});

describe('formatSnapshots', () => {
  it('shows the space each snapshot holds alone, and ? where it could not be read', () => {
    const out = formatSnapshots([
      snap({}),
      snap({ id: 's2', name: 'later', current: false, parent: 's1', ownBytes: null }),
    ] as Parameters<typeof formatSnapshots>[0]).split('\n');
    expect(out[0]).toMatch(/RAM\s+OWN\s+PARENT/);
    expect(out[1]).toMatch(/^\*\s+s1\s+clean\s+2026-11-29 03:00:00\s+yes\s+101M\s+-$/);
    expect(out[2]).toMatch(/s2\s+later\s+.*yes\s+\?\s+s1$/);
  });
});
