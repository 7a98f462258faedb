// Summaries and result rows. Every figure is a ratio of Hangar against a baseline measured in the
// same run, because these machines are too noisy for absolute times to mean anything alone.

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p25: number;
  p75: number;
  p95: number;
  p99: number;
}

/** Nearest-rank quantile of sorted values: no interpolation, so p99 of 200 samples is a real sample. */
function rank(sorted: number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(values: number[]): Summary {
  if (!values.length) throw new Error('no samples to summarize');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length / 2;
  const median = s.length % 2 ? s[Math.floor(mid)]! : (s[mid - 1]! + s[mid]!) / 2;
  return {
    n: s.length,
    median,
    min: s[0]!,
    max: s[s.length - 1]!,
    p25: rank(s, 0.25),
    p75: rank(s, 0.75),
    p95: rank(s, 0.95),
    p99: rank(s, 0.99),
  };
}

export type Pick = 'median' | 'p95' | 'p99';

export interface Row {
  section: string;
  figure: string;
  unit: string;
  /** Which statistic the row compares (the median unless it says so). */
  pick: Pick;
  hangar: Summary | null;
  baseline: Summary | null;
  baselineLabel: string;
  ratio: number | null;
  /** Spread of the ratio over paired repetitions, when the runs were paired. */
  ratioMin?: number;
  ratioMax?: number;
  /** What the issue aims for; printed, never judged. */
  target?: string;
  note?: string;
  error?: string;
}

export interface RowInput {
  section: string;
  figure: string;
  unit: string;
  hangar: number[];
  baseline?: number[];
  baselineLabel?: string;
  pick?: Pick;
  /** Samples were taken in pairs (hangar[i] with baseline[i]): ratio spread per pair. */
  paired?: boolean;
  target?: string;
  note?: string;
}

export function row(input: RowInput): Row {
  const pick = input.pick ?? 'median';
  const hangar = summarize(input.hangar);
  const baseline = input.baseline?.length ? summarize(input.baseline) : null;
  const out: Row = {
    section: input.section,
    figure: input.figure,
    unit: input.unit,
    pick,
    hangar,
    baseline,
    baselineLabel: input.baselineLabel ?? '',
    ratio: baseline && baseline[pick] > 0 ? hangar[pick] / baseline[pick] : null,
    target: input.target,
    note: input.note,
  };
  if (input.paired && input.baseline && input.baseline.length === input.hangar.length) {
    const ratios = input.hangar.map((h, i) => h / input.baseline![i]!).filter(Number.isFinite);
    if (ratios.length) {
      out.ratioMin = Math.min(...ratios);
      out.ratioMax = Math.max(...ratios);
    }
  }
  return out;
}

/** A row that says why there is no figure (a missing feature or a section that failed). */
export function noteRow(section: string, figure: string, note: string, error?: string): Row {
  return {
    section,
    figure,
    unit: '',
    pick: 'median',
    hangar: null,
    baseline: null,
    baselineLabel: '',
    ratio: null,
    note,
    error,
  };
}

export function percent(n: number): string {
  return `${n.toFixed(1)}%`;
}
