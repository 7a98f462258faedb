// A lab file's text to the lab the engine builds, or one error listing every problem with its
// line and column (the same text `hangar lab validate` prints).
import { HangarError } from '../../../shared/errors';
import type { ExpandedLab } from '../../../shared/lab/expand';
import { formatLabError, parseLab } from '../../../shared/lab/parse';

export function readLab(text: string, sourceFile: string | null): ExpandedLab {
  const r = parseLab(text);
  if (r.ok) return r.lab;
  const where = sourceFile ?? 'hangar.lab.yaml';
  throw new HangarError(
    'INVALID_INPUT',
    `The lab file has ${r.errors.length} error${r.errors.length === 1 ? '' : 's'}; nothing was created.\n` +
      r.errors.map((e) => formatLabError(where, e)).join('\n'),
    { errors: r.errors },
  );
}
