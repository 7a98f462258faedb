import { describe, expect, it } from 'vitest';
import {
  bitmapName,
  decideChain,
  nextBitmapName,
  staleBitmaps,
  type BitmapInfo,
  type ChainInput,
} from './chain';

const chain = 'a1b2c3d4e5f6';
const good: BitmapInfo = { name: bitmapName(chain), recording: true, busy: false, persistent: true };

function input(over: Partial<ChainInput> = {}, bitmap: Partial<BitmapInfo> | null = {}): ChainInput {
  return {
    tail: { id: 'B1', chainId: chain, disks: [{ id: 'disk0', virtualSize: 64 }] },
    disks: [{ id: 'disk0', virtualSize: 64 }],
    forceFull: false,
    bitmaps: new Map([['disk0', bitmap ? [{ ...good, ...bitmap }] : []]]),
    ...over,
  };
}

describe('decideChain', () => {
  it('continues the chain when its bitmap is sound', () => {
    expect(decideChain(input())).toEqual({ kind: 'incremental', chainId: chain, parent: 'B1' });
  });

  it.each([
    ['no earlier backup', input({ tail: null }), /first backup/],
    ['asked for', input({ forceFull: true }), /asked for/],
    ['disk resized', input({ disks: [{ id: 'disk0', virtualSize: 128 }] }), /disks changed/],
    [
      'disk added',
      input({
        disks: [
          { id: 'disk0', virtualSize: 64 },
          { id: 'disk1', virtualSize: 1 },
        ],
      }),
      /disks changed/,
    ],
    ['missing bitmap', input({}, null), /missing on disk0/],
    ['inconsistent', input({}, { inconsistent: true }), /inconsistent/],
    ['busy', input({}, { busy: true }), /busy/],
    ['disabled', input({}, { recording: false }), /disabled/],
    ['not persistent', input({}, { persistent: false }), /not persistent/],
  ])('makes a full when %s', (_, i, reason) => {
    const d = decideChain(i);
    expect(d.kind).toBe('full');
    expect(d.kind === 'full' && d.reason).toMatch(reason);
  });

  it("does not take another chain's bitmap for its own", () => {
    const d = decideChain(input({}, { name: bitmapName('ffffffffffff') }));
    expect(d).toMatchObject({ kind: 'full', reason: expect.stringMatching(/missing/) });
  });
});

describe('staleBitmaps', () => {
  const b = (name: string): BitmapInfo => ({ name, recording: true, busy: false, persistent: true });
  it("names our other bitmaps and never a user's", () => {
    const all = [
      b(bitmapName(chain)),
      b(nextBitmapName(chain)),
      b(bitmapName('0123456789ab')),
      b('users-own'),
    ];
    expect(staleBitmaps(all, chain)).toEqual([nextBitmapName(chain), bitmapName('0123456789ab')]);
    expect(staleBitmaps(all, null)).toEqual([
      bitmapName(chain),
      nextBitmapName(chain),
      bitmapName('0123456789ab'),
    ]);
  });
});
