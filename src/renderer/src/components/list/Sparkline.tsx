// The last minute of a running VM's CPU on its card, as a small line. Hand-drawn SVG: one
// polyline does not need a charting library (the Performance tab uses uPlot).
import { memo } from 'react';
import { useStats } from '../../store/stats';

const W = 120;
const H = 24;

export const Sparkline = memo(function Sparkline({ id }: { id: string }) {
  const samples = useStats((s) => s.samples[id]);
  if (!samples || samples.length < 2) return null;
  const cpu = samples.map((s) => s.cpuPercent ?? 0);
  // At least one core on the scale, so an idle guest is a flat line at the bottom, not noise.
  const top = Math.max(100, ...cpu);
  const points = cpu
    .map((v, i) => `${((i / (cpu.length - 1)) * W).toFixed(1)},${(H - (v / top) * (H - 2) - 1).toFixed(1)}`)
    .join(' ');
  const now = cpu.at(-1)!;
  return (
    <span
      className="sparkline"
      data-testid="card-sparkline"
      title={`CPU over the last minute; now ${now.toFixed(0)}% of a core`}
    >
      <svg width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`CPU ${now.toFixed(0)}%`}>
        <polyline points={points} fill="none" stroke="currentColor" strokeWidth="1.5" />
      </svg>
      <span className="sparkline-value">{now.toFixed(0)}%</span>
    </span>
  );
});
