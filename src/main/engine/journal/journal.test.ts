import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendJournal, JOURNAL_FILE, readJournal } from './journal';

const dir = () => mkdtempSync(join(tmpdir(), 'journal-'));

describe('the VM journal', () => {
  it('reads entries back newest first, skipping torn and foreign lines', () => {
    const d = dir();
    appendJournal(d, { at: '2026-11-28T10:00:00Z', kind: 'state', what: 'running', ok: true });
    appendFileSync(join(d, JOURNAL_FILE), '{"not":"an entry"}\n{"at":"x","kin');
    appendFileSync(join(d, JOURNAL_FILE), '\n');
    appendJournal(d, {
      at: '2026-11-28T10:01:00Z',
      kind: 'operation',
      what: 'snapshot',
      ok: false,
      detail: 'disk full',
      ms: 12,
    });
    expect(readJournal(d).map((e) => [e.what, e.ok])).toEqual([
      ['snapshot', false],
      ['running', true],
    ]);
    expect(readJournal(d, 1)).toHaveLength(1);
  });

  it('has nothing for a VM without history, and writes nothing into a folder that is gone', () => {
    const d = dir();
    expect(readJournal(d)).toEqual([]);
    rmSync(d, { recursive: true });
    appendJournal(d, { at: 'now', kind: 'state', what: 'stopped', ok: true });
    expect(readJournal(d)).toEqual([]);
  });

  it('stays bounded: past 256 KiB the older half goes, the newest stay', () => {
    const d = dir();
    for (let i = 0; i < 3000; i++)
      appendJournal(d, { at: `t${i}`, kind: 'operation', what: 'edit', ok: true, detail: 'x'.repeat(100) });
    expect(statSync(join(d, JOURNAL_FILE)).size).toBeLessThanOrEqual(256 * 1024);
    expect(readJournal(d, 1)[0]!.at).toBe('t2999');
    expect(readFileSync(join(d, JOURNAL_FILE), 'utf8')).not.toContain('"t0"');
  });

  it('cuts a long error to 2000 characters', () => {
    const d = dir();
    appendJournal(d, { at: 'now', kind: 'operation', what: 'start', ok: false, detail: 'e'.repeat(10_000) });
    expect(readJournal(d)[0]!.detail).toHaveLength(2000);
  });
});
