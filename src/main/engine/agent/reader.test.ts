import { describe, expect, it } from 'vitest';
import { ReplyReader } from './reader';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('ReplyReader', () => {
  it('returns whole lines, joining pieces across chunks', () => {
    const r = new ReplyReader(100);
    expect(r.push(b('{"return":'))).toEqual([]);
    expect(r.push(b(' 1}\n{"return": 2}\n{"ret'))).toEqual(['{"return": 1}', '{"return": 2}']);
    expect(r.bufferedBytes).toBe(5);
    expect(r.push(b('urn": 3}\n'))).toEqual(['{"return": 3}']);
    expect(r.bufferedBytes).toBe(0);
  });

  it('forgets a partial line at the 0xFF sentinel', () => {
    const r = new ReplyReader(100);
    expect(r.push(b('{"return": "sta'))).toEqual([]);
    expect(r.push(b('le\xff{"return": 7}\n'))).toEqual(['{"return": 7}']);
    expect(r.push(b('half\xff\xff{"return": 8}\n'))).toEqual(['{"return": 8}']);
  });

  it('gives up on a line that outgrows the limit before its newline, keeping nothing', () => {
    const r = new ReplyReader(16);
    expect(r.push(b('x'.repeat(10)))).toEqual([]);
    expect(r.push(b('x'.repeat(10)))).toEqual([]);
    expect(r.overflowed).toBe(true);
    expect(r.bufferedBytes).toBe(0);
    expect(r.push(b('\n{"return": 1}\n'))).toEqual([]);
  });

  it('gives up on a complete line over the limit, after the lines before it', () => {
    const r = new ReplyReader(16);
    expect(r.push(b(`{"return": 1}\n${'y'.repeat(17)}\n{"return": 2}\n`))).toEqual(['{"return": 1}']);
    expect(r.overflowed).toBe(true);
  });

  it('decodes UTF-8 only once a line is whole', () => {
    const r = new ReplyReader(100);
    const bytes = Buffer.from('{"return": "é€"}\n');
    expect(r.push(bytes.subarray(0, 13))).toEqual([]);
    expect(r.push(bytes.subarray(13))).toEqual(['{"return": "é€"}']);
  });
});
