import { describe, expect, it } from 'vitest';
import type { StatsSample } from '../../../../shared/api-types';
import { CHARTS, formatValue } from './charts';

const sample = (at: number, patch: Partial<StatsSample> = {}): StatsSample => ({
  at,
  cpuPercent: 50,
  rssBytes: 100,
  guestMemory: null,
  disks: [
    { id: 'disk0', readBytes: 1, writeBytes: 10, readOps: 1, writeOps: 1 },
    { id: 'seed', readBytes: 2, writeBytes: 0, readOps: 1, writeOps: 0 },
  ],
  net: null,
  ...patch,
});
const chart = (key: string) => CHARTS.find((c) => c.key === key)!;

describe('performance charts', () => {
  it('puts time in seconds first, then one column per line, with gaps where the guest gave nothing', () => {
    const s = [sample(1_000), sample(2_000, { guestMemory: { totalBytes: 1000, availableBytes: 400 } })];
    expect(chart('cpu').columns(s)).toEqual([
      [1, 2],
      [50, 50],
    ]);
    expect(chart('memory').columns(s)).toEqual([
      [1, 2],
      [100, 100],
      [null, 600],
    ]);
    expect(chart('disk').columns(s)).toEqual([
      [1, 2],
      [3, 3],
      [10, 10],
    ]);
    expect(chart('net').columns(s)).toEqual([
      [1, 2],
      [null, null],
      [null, null],
    ]);
  });

  it('says the network is unavailable only when no sample had counters', () => {
    expect(chart('net').unavailable!([sample(1)])).toMatch(/Not available/);
    expect(chart('net').unavailable!([sample(1), sample(2, { net: { rxBytes: 0, txBytes: 5 } })])).toBeNull();
  });

  it('formats values with binary units', () => {
    expect(formatValue('percent', 12.4)).toBe('12%');
    expect(formatValue('bytes', 1536)).toBe('1.5 KiB');
    expect(formatValue('bytesPerSecond', 20 * 2 ** 20)).toBe('20 MiB/s');
    expect(formatValue('bytes', null)).toBe('–');
  });
});
