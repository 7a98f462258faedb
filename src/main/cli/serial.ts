// `hangar wait --serial` and `hangar console`: both work on the serial console of a running VM.
// wait reads serial.log (which QEMU writes whoever is attached), console attaches the terminal.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { HangarError } from '../../shared/errors';
import { SerialConsole } from '../engine/consoles/serial';
import { SERIAL_START_MARK } from '../engine/supervisor/launch';

/** Resolves with the first match of `pattern` in the output since the VM's latest start. */
export async function waitSerial(logFile: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  let offset = 0;
  for (;;) {
    const size = statSync(logFile, { throwIfNoEntry: false })?.size ?? 0;
    if (size > offset) {
      const fd = openSync(logFile, 'r');
      const buf = Buffer.alloc(size - offset);
      readSync(fd, buf, 0, buf.length, offset);
      closeSync(fd);
      offset = size;
      text += buf.toString('utf8');
      const start = text.lastIndexOf(SERIAL_START_MARK);
      if (start > 0) text = text.slice(start);
    }
    const m = pattern.exec(text.slice(text.lastIndexOf(SERIAL_START_MARK) + 1));
    if (m) return m[0];
    if (Date.now() > deadline) {
      throw new HangarError(
        'TIMEOUT',
        `${pattern} did not appear on the serial console within ${timeoutMs / 1000} s.` +
          lastLines(text.slice(text.lastIndexOf(SERIAL_START_MARK) + 1)),
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The tail of what the guest printed, so a timeout says where the guest stopped. */
export function lastLines(text: string, n = 8): string {
  const lines = text
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l.trim() !== '' && l.trim() !== SERIAL_START_MARK.trim());
  if (lines.length === 0) return ' The guest printed nothing since it started.';
  return ` Last output:\n${lines.slice(-n).join('\n')}`;
}

async function quiet(con: SerialConsole, silenceMs: number, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  let seen = con.output.length;
  let since = Date.now();
  while (Date.now() < end && Date.now() - since < silenceMs) {
    await new Promise((r) => setTimeout(r, 50));
    if (con.output.length !== seen) {
      seen = con.output.length;
      since = Date.now();
    }
  }
}

/** Attaches stdin/stdout to the serial console until Ctrl-] or the VM stops. */
export async function attachConsole(socketPath: string): Promise<void> {
  const con = new SerialConsole(socketPath);
  await con.connect(2_000);
  process.stderr.write('Connected to the serial console. Press Ctrl-] to leave.\r\n');
  con.onData = (t) => process.stdout.write(t);
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  await new Promise<void>((resolve) => {
    con.onClose = resolve;
    stdin.on('data', (d: Buffer) => {
      // Ctrl-] leaves, as in telnet and virsh console.
      if (d.includes(0x1d)) resolve();
      else con.write(d);
    });
    // Piped input (scripts): after the last line, stay until the guest has gone quiet.
    stdin.on('end', () => void quiet(con, 700, 10_000).then(resolve));
  });
  if (stdin.isTTY) stdin.setRawMode(false);
  stdin.pause();
  con.close();
  process.stderr.write('\r\nLeft the serial console.\r\n');
}
