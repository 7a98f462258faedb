// The monitor reached through the API (the UI, the thin CLI) runs only commands that act on the
// guest or read state. Commands that open host files, ports or processes (migrate, screendump,
// drive_add, gdbserver, hostfwd_add, ...) are refused: the renderer is untrusted, and QEMU runs
// with the user's rights. The engine's own features cover what those would be used for.
import { HangarError } from '../../shared/errors';

const ALLOWED = new Set([
  'info',
  'help',
  '?',
  'x',
  'xp',
  'p',
  'print',
  'sendkey',
  'system_reset',
  'system_powerdown',
  'stop',
  'c',
  'cont',
  'mouse_move',
  'mouse_button',
  'balloon',
  'nmi',
  'gva2gpa',
  'i',
  'o',
  'sum',
  'boot_set',
  'watchdog_action',
  'mce',
  'singlestep',
  'sync-profile',
  'one-insn-per-tb',
]);

/**
 * The name QEMU's human monitor will look up for this line (monitor/hmp.c, get_command_name):
 * after leading C whitespace, the run of characters up to the next C whitespace or '/', since
 * `x/8i $pc` is the command x with the format /8i. A name that QEMU would read differently from
 * us could let a refused command through, so this follows it exactly, except that a NUL (where
 * QEMU's C string ends) stays part of the name here, which then matches nothing allowed.
 */
export function monitorCommandName(commandLine: string): string {
  return /^[ \t\n\v\f\r]*([^ \t\n\v\f\r/]*)/.exec(commandLine)![1]!;
}

export function checkMonitorCommand(commandLine: string): void {
  const word = monitorCommandName(commandLine);
  if (!ALLOWED.has(word)) {
    throw new HangarError(
      'INVALID_INPUT',
      `The monitor here runs commands that act on the guest or show its state (info, x, sendkey, stop, cont, ...); ` +
        `"${word}" is not one of them because it can reach files, ports or processes on this computer.`,
      { allowed: [...ALLOWED].sort() },
    );
  }
}
