// Turning samples into uPlot's columns: x in seconds, then one series per line. Pure, so the
// shapes are unit-tested without a canvas.
import type { StatsSample } from '../../../../shared/api-types';

export type Columns = [number[], ...(number | null)[][]];

export interface ChartSpec {
  key: string;
  title: string;
  unit: 'percent' | 'bytes' | 'bytesPerSecond';
  series: string[];
  columns: (samples: StatsSample[]) => Columns;
  /** Shown instead of the chart when the figures cannot be had (no agent for the network). */
  unavailable?: (samples: StatsSample[]) => string | null;
}

const x = (samples: StatsSample[]) => samples.map((s) => s.at / 1000);
const sum = (s: StatsSample, f: (d: StatsSample['disks'][number]) => number) =>
  s.disks.reduce((t, d) => t + f(d), 0);

export const CHARTS: ChartSpec[] = [
  {
    key: 'cpu',
    title: 'CPU (% of one host core)',
    unit: 'percent',
    series: ['CPU'],
    columns: (s) => [x(s), s.map((v) => v.cpuPercent)],
  },
  {
    key: 'memory',
    title: 'Memory',
    unit: 'bytes',
    series: ['QEMU on the host (RSS)', 'Used in the guest'],
    columns: (s) => [
      x(s),
      s.map((v) => v.rssBytes),
      s.map((v) => (v.guestMemory ? v.guestMemory.totalBytes - v.guestMemory.availableBytes : null)),
    ],
  },
  {
    key: 'disk',
    title: 'Disk I/O (all disks)',
    unit: 'bytesPerSecond',
    series: ['Read', 'Write'],
    columns: (s) => [
      x(s),
      s.map((v) => sum(v, (d) => d.readBytes)),
      s.map((v) => sum(v, (d) => d.writeBytes)),
    ],
  },
  {
    key: 'net',
    title: 'Network',
    unit: 'bytesPerSecond',
    series: ['Received', 'Sent'],
    columns: (s) => [x(s), s.map((v) => v.net?.rxBytes ?? null), s.map((v) => v.net?.txBytes ?? null)],
    unavailable: (s) =>
      s.length > 0 && s.every((v) => v.net === null)
        ? 'Not available: the guest has no agent answering (install qemu-guest-agent in it).'
        : null,
  },
];

export function formatValue(unit: ChartSpec['unit'], v: number | null): string {
  if (v === null) return '–';
  if (unit === 'percent') return `${v.toFixed(0)}%`;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = v;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(n >= 10 || i === 0 ? 0 : 1)} ${units[i]}${unit === 'bytesPerSecond' ? '/s' : ''}`;
}
