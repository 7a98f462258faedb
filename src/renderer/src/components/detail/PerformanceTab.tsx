// Live graphs of a running VM: CPU, memory, disk and network over the last ten minutes, drawn by
// uPlot (made for live time series: one canvas per chart, cheap redraws). The history comes from
// the engine once; then each second's sample arrives with the engine's 'stats' event.
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { StatsSample, VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { errorMessage } from '../../store/notices';
import { useStats } from '../../store/stats';
import { CHARTS, formatValue, type ChartSpec } from './charts';

const KEEP = 600;
const COLORS = ['#2f6fdf', '#d9822b'];

function Chart({ spec, samples }: { spec: ChartSpec; samples: StatsSample[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const unavailable = spec.unavailable?.(samples) ?? null;
  useEffect(() => {
    if (!box.current || unavailable) return;
    const opts: uPlot.Options = {
      width: Math.max(300, box.current.clientWidth),
      height: 160,
      scales: {
        x: { time: true },
        y: { range: (_u, min, max) => [0, Math.max(max, spec.unit === 'percent' ? 100 : 1)] },
      },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => formatValue(spec.unit, t)), size: 70 }],
      series: [
        {},
        ...spec.series.map((label, i) => ({
          label,
          stroke: COLORS[i % COLORS.length],
          width: 1.5,
          value: (_u: uPlot, v: number | null) => formatValue(spec.unit, v),
        })),
      ],
    };
    const u = new uPlot(opts, spec.columns([]) as uPlot.AlignedData, box.current);
    plot.current = u;
    const resize = new ResizeObserver(() => {
      if (box.current) u.setSize({ width: Math.max(300, box.current.clientWidth), height: 160 });
    });
    resize.observe(box.current);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [spec, unavailable]);
  useEffect(() => {
    plot.current?.setData(spec.columns(samples) as uPlot.AlignedData);
  }, [spec, samples]);
  return (
    <figure className="perf-chart" data-testid={`perf-${spec.key}`}>
      <figcaption>{spec.title}</figcaption>
      {unavailable ? <p className="muted">{unavailable}</p> : <div ref={box} className="perf-plot" />}
    </figure>
  );
}

export function PerformanceTab({ vm }: { vm: VmSummary }) {
  const [samples, setSamples] = useState<StatsSample[]>([]);
  const [error, setError] = useState('');
  const latest = useStats((s) => s.samples[vm.id]?.at(-1));
  const up = vm.state === 'running' || vm.state === 'paused';

  useEffect(() => {
    if (!up) return;
    let live = true;
    api('vm.stats', { vm: vm.id }).then(
      (r) => live && setSamples(r.samples),
      (err: unknown) => live && setError(errorMessage(err)),
    );
    return () => {
      live = false;
    };
  }, [vm.id, up]);

  useEffect(() => {
    if (!latest) return;
    setSamples((s) => (s.length && s.at(-1)!.at >= latest.at ? s : [...s.slice(-(KEEP - 1)), latest]));
  }, [latest]);

  if (!up)
    return (
      <p className="muted" data-testid="perf-stopped">
        Start the VM to see its CPU, memory, disk and network.
      </p>
    );
  return (
    <div className="perf" data-testid="perf" data-samples={samples.length}>
      {error && <p className="field-error">{error}</p>}
      {samples.length === 0 && <p className="muted">Collecting the first samples…</p>}
      {CHARTS.map((c) => (
        <Chart key={c.key} spec={c} samples={samples} />
      ))}
    </div>
  );
}
