// The Markdown table printed on stdout (and kept in the JSON): one row per figure, the compared
// statistic with its spread on both sides, and the ratio. Targets are shown, never judged.
import type { Row, Summary } from './stats';

export function num(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

function cell(s: Summary | null, r: Row): string {
  if (!s) return '';
  const v = s[r.pick];
  // Spread: min–max for medians; a p95/p99 is already a spread figure, so its n says enough.
  const spread = r.pick === 'median' && s.n > 1 ? ` (${num(s.min)}–${num(s.max)})` : '';
  return `${num(v)} ${r.unit}${spread}, n=${s.n}`;
}

function ratio(r: Row): string {
  if (r.ratio === null) return '';
  const spread =
    r.ratioMin !== undefined && r.ratioMax !== undefined
      ? ` (${r.ratioMin.toFixed(2)}–${r.ratioMax.toFixed(2)})`
      : '';
  return `**${r.ratio.toFixed(3)}**${spread}`;
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function table(rows: Row[]): string {
  const head = ['Section', 'Figure', 'Hangar', 'Baseline', 'Ratio', 'Target', 'Notes'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  for (const r of rows) {
    const base = r.baseline ? `${cell(r.baseline, r)} — ${r.baselineLabel}` : r.baselineLabel;
    const notes = [r.note, r.error ? `error: ${r.error}` : ''].filter(Boolean).join('; ');
    const cols = [r.section, r.figure, cell(r.hangar, r), base, ratio(r), r.target ?? '', notes];
    lines.push(`| ${cols.map((c) => esc(c)).join(' | ')} |`);
  }
  return lines.join('\n');
}
