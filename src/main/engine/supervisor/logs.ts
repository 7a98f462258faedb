// The tail of a log, for error messages: the last lines of qemu.log usually name the problem.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export function tailFile(path: string, maxBytes = 4096, maxLines = 12): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const lines = buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    return lines.slice(-maxLines).join('\n');
  } finally {
    closeSync(fd);
  }
}

/** Lines QEMU wrote to stderr that explain a failure, without the noise of warnings. */
export function qemuErrorLines(log: string): string {
  const lines = log.split('\n').filter((l) => /qemu-system|error|failed|could not|cannot|Assertion/i.test(l));
  return (lines.length ? lines : log.split('\n')).slice(-5).join('\n');
}
