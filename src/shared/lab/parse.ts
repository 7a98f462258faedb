// Reads a lab file: YAML (the yaml library, with its alias limit, duplicate keys refused), then the
// schema, then the checks across VMs (expand.ts). Every error names the line and column in the
// file and the key it is about, as an editor would show it; nothing is made from a file with one.
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { expandLab, type ExpandedLab } from './expand';
import { LabFile } from './schema';

export interface LabError {
  line: number;
  column: number;
  /** The key path, e.g. `vms.web.nics.0.ip` (empty for the file as a whole). */
  key: string;
  message: string;
}

export type LabParse = { ok: true; file: LabFile; lab: ExpandedLab } | { ok: false; errors: LabError[] };

/** Lab files are small; a megabyte is far past any real one and bounds what a hostile one costs. */
export const MAX_LAB_FILE_BYTES = 1024 * 1024;

type Path = (string | number)[];

/** Where a key path points in the document: the key itself for a map entry, else the value. */
function position(
  doc: Document,
  lines: LineCounter,
  path: Path,
  unknownKey?: string,
): { line: number; col: number } {
  let node: unknown = doc.contents;
  let at: [number, number, number] | undefined = (doc.contents as { range?: [number, number, number] })
    ?.range;
  for (const step of unknownKey === undefined ? path : [...path, unknownKey]) {
    if (!isNode(node) && !isMap(node)) break;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step),
      );
      if (!pair) break;
      const key = pair.key as { range?: [number, number, number] };
      at = key.range ?? at;
      node = pair.value;
      if (step === unknownKey) break;
      continue;
    }
    const items = (node as { items?: unknown[] }).items;
    if (Array.isArray(items) && typeof step === 'number' && items[step] !== undefined) {
      node = items[step];
      at = (node as { range?: [number, number, number] }).range ?? at;
      continue;
    }
    break;
  }
  return at ? lines.linePos(at[0]) : { line: 1, col: 1 };
}

export function parseLab(text: string): LabParse {
  if (new TextEncoder().encode(text).length > MAX_LAB_FILE_BYTES)
    return {
      ok: false,
      errors: [
        { line: 1, column: 1, key: '', message: `A lab file is at most ${MAX_LAB_FILE_BYTES / 1024} KiB.` },
      ],
    };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        line: e.linePos?.[0].line ?? 1,
        column: e.linePos?.[0].col ?? 1,
        key: '',
        message: e.message.split('\n')[0]!,
      })),
    };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, errors: [{ line: 1, column: 1, key: '', message: (err as Error).message }] };
  }
  const at = (path: Path, message: string, unknownKey?: string): LabError => {
    const p = position(doc, lines, path, unknownKey);
    return {
      line: p.line,
      column: p.col,
      key: [...path, ...(unknownKey ? [unknownKey] : [])].join('.'),
      message,
    };
  };
  const checked = LabFile.safeParse(raw ?? {});
  if (!checked.success) {
    const errors = checked.error.issues.flatMap((i) => {
      const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (i.code === 'unrecognized_keys')
        return i.keys.map((k) =>
          at(path, `unknown key "${k}"; see the lab file reference (resources/lab.schema.json).`, k),
        );
      return [at(path, i.message)];
    });
    return { ok: false, errors: sortErrors(errors) };
  }
  const { lab, problems } = expandLab(checked.data);
  if (problems.length) return { ok: false, errors: sortErrors(problems.map((p) => at(p.path, p.message))) };
  return { ok: true, file: checked.data, lab };
}

function sortErrors(errors: LabError[]): LabError[] {
  return errors.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** One error as a compiler prints it: `FILE:LINE:COLUMN: key: message`. */
export function formatLabError(file: string, e: LabError): string {
  return `${file}:${e.line}:${e.column}: ${e.key ? `${e.key}: ` : ''}${e.message}`;
}
