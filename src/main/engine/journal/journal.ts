// The per-VM history (events.jsonl in the VM's folder): one JSON line per state change or
// operation, appended with O_APPEND in one write, so concurrent engines' lines never interleave
// and a crash loses at most the line being written. Bounded: past MAX_BYTES the older half goes.
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalEntry } from '../../../shared/journal';
import { JOURNAL_FILE } from '../config/filenames';
import { writeFileAtomic } from '../config/atomic';

export { JOURNAL_FILE };
const MAX_BYTES = 256 * 1024;
const MAX_DETAIL = 2000;

function file(vmDir: string): string {
  return join(vmDir, JOURNAL_FILE);
}

/** Appends an entry; a VM folder that is gone (deleted meanwhile) is not an error. */
export function appendJournal(vmDir: string, entry: JournalEntry): void {
  if (!existsSync(vmDir)) return;
  const e = entry.detail ? { ...entry, detail: entry.detail.slice(0, MAX_DETAIL) } : entry;
  try {
    appendFileSync(file(vmDir), `${JSON.stringify(e)}\n`, { mode: 0o600 });
    if (statSync(file(vmDir)).size > MAX_BYTES) trim(vmDir);
  } catch {
    // History is a convenience: a full disk must never fail the operation it records.
  }
}

/** Keeps the newer half of the lines, replaced atomically: a crash here loses no history. */
function trim(vmDir: string): void {
  const lines = readFileSync(file(vmDir), 'utf8').split('\n').filter(Boolean);
  writeFileAtomic(file(vmDir), `${lines.slice(Math.floor(lines.length / 2)).join('\n')}\n`);
}

function valid(x: unknown): x is JournalEntry {
  const e = x as JournalEntry;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.at === 'string' &&
    (e.kind === 'state' || e.kind === 'operation') &&
    typeof e.what === 'string' &&
    typeof e.ok === 'boolean'
  );
}

/** The newest `limit` entries, newest first; a torn or foreign line is skipped. */
export function readJournal(vmDir: string, limit = 500): JournalEntry[] {
  let text: string;
  try {
    text = readFileSync(file(vmDir), 'utf8');
  } catch {
    return [];
  }
  const out: JournalEntry[] = [];
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
    if (!lines[i]) continue;
    try {
      const e: unknown = JSON.parse(lines[i]!);
      if (valid(e)) out.push(e);
    } catch {
      // a torn last line after a crash
    }
  }
  return out;
}
