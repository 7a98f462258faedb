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

export function checkMonitorCommand(commandLine: string): void {
  const word = commandLine.trim().split(/\s+/)[0] ?? '';
  if (!ALLOWED.has(word)) {
    throw new HangarError(
      'INVALID_INPUT',
      `The monitor here runs commands that act on the guest or show its state (info, x, sendkey, stop, cont, ...); ` +
        `"${word}" is not one of them because it can reach files, ports or processes on this computer.`,
      { allowed: [...ALLOWED].sort() },
    );
  }
}
