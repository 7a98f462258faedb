// The serial log since the latest start, including when the log was read back line by line
// (tailFile drops blank lines, and with them the mark's own line breaks).
import { describe, expect, it } from 'vitest';
import { SERIAL_START_MARK, serialSinceStart } from './launch';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tailFile } from './logs';

describe('serialSinceStart', () => {
  it('keeps only what follows the last start, whether or not the mark kept its line breaks', () => {
    const log = `No bootable device.${SERIAL_START_MARK}`;
    expect(serialSinceStart(log).trim()).toBe('');
    const file = join(mkdtempSync(join(tmpdir(), 'hangar-mark-')), 'serial.log');
    // A run that failed, then a start whose output has not arrived yet.
    writeFileSync(
      file,
      `${SERIAL_START_MARK}BdsDxe: starting Boot0002 "EFI Internal Shell"\n${SERIAL_START_MARK}`,
    );
    expect(serialSinceStart(tailFile(file, 4096, 100))).not.toContain('EFI Internal Shell');
    expect(serialSinceStart(`old${SERIAL_START_MARK}new\n`).trim()).toBe('new');
    expect(serialSinceStart('no mark at all')).toBe('no mark at all');
  });
});
