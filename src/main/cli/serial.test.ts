import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERIAL_START_MARK } from '../engine/supervisor/launch';
import { lastLines, waitSerial } from './serial';

describe('waitSerial', () => {
  const log = (text: string) => {
    const f = join(mkdtempSync(join(tmpdir(), 'serial-')), 'serial.log');
    writeFileSync(f, text);
    return f;
  };

  it('finds the pattern only in the latest run', async () => {
    const f = log(`old READY${SERIAL_START_MARK}booting\nREADY now\n`);
    await expect(waitSerial(f, /READY \w+/, 1000)).resolves.toBe('READY now');
    const g = log(`READY${SERIAL_START_MARK}booting\n`);
    await expect(waitSerial(g, /READY/, 300)).rejects.toThrow(/did not appear/);
  });

  it('names the last lines the guest printed when it times out', async () => {
    const f = log(`${SERIAL_START_MARK}line 1\r\nKernel panic - not syncing\r\n`);
    const err = await waitSerial(f, /READY/, 200).catch((e: Error) => e);
    expect(String(err)).toMatch(/Last output:\nline 1\nKernel panic - not syncing$/);
    expect(String(err)).not.toContain('hangar: VM started');
  });

  it('says when the guest printed nothing', () => {
    expect(lastLines('[hangar: VM started]\n')).toContain('printed nothing');
    expect(lastLines('a\nb\nc', 2)).toBe(' Last output:\nb\nc');
  });
});
