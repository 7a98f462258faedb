import { describe, expect, it } from 'vitest';
import { checkMonitorCommand, monitorCommandName } from './monitor-policy';

const refused = (line: string) => () => checkMonitorCommand(line);

describe('monitor command names, read as QEMU reads them', () => {
  it.each([
    ['x/8i $pc', 'x'],
    ['xp /4xw 0x1000', 'xp'],
    ['p/x $eax', 'p'],
    ['  \t info status', 'info'],
    ['info', 'info'],
    ['migrate/x exec:true', 'migrate'],
    ['/x', ''],
    ['', ''],
    ['x\u00a0/8i', 'x\u00a0'], // no-break space is not C whitespace: QEMU reads the same name
    ['x\u0000migrate', 'x\u0000migrate'],
  ])('%j is the command %j', (line, name) => {
    expect(monitorCommandName(line)).toBe(name);
  });
});

describe('monitor allow-list', () => {
  it('allows memory dumps with a format and the guest commands', () => {
    for (const line of ['x/8i $pc', 'xp/16xb 0', 'print/x 1+1', 'x 0', 'info registers', 'stop', 'cont']) {
      expect(refused(line), line).not.toThrow();
    }
  });

  it.each([
    'migrate/x "exec:touch /tmp/owned"',
    'migrate "exec:true"',
    'screendump/ /tmp/a.ppm',
    'drive_add/0 file=/etc/passwd',
    'gdbserver/tcp::1234',
    '/x 0',
    '',
    '   ',
    'x\u0000migrate "exec:true"',
    'info\u00a0status',
    'INFO status',
  ])('refuses %j', (line) => {
    expect(refused(line)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
