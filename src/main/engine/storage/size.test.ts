import { describe, expect, it } from 'vitest';
import { formatSize, parseSize } from './size';

describe('parseSize', () => {
  it('reads units and rounds up to whole sectors', () => {
    expect(parseSize('20G')).toBe(20 * 2 ** 30);
    expect(parseSize('512m')).toBe(512 * 2 ** 20);
    expect(parseSize('1.5T')).toBe(1.5 * 2 ** 40);
    expect(parseSize('2GiB')).toBe(2 * 2 ** 30);
    expect(parseSize(1048577)).toBe(1048576 + 512);
  });

  it.each([
    '0',
    '0G',
    '-1G',
    '100',
    '',
    'abc',
    '1e9',
    '20 GB extra',
    '1P',
    '65T',
    'NaN',
    'Infinity',
    '--size=1G',
  ])('refuses %j with a clear message', (bad) => {
    expect(() => parseSize(bad)).toThrow(/size|small|large/);
  });

  it('formats for people', () => {
    expect(formatSize(20 * 2 ** 30)).toBe('20G');
    expect(formatSize(1536 * 2 ** 20)).toBe('1.5G');
  });
});
