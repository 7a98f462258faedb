// Per-VM logs that stay small and never block: lines are queued and appended asynchronously,
// and a log past its cap is rotated once (FILE -> FILE.1), so a VM that runs for weeks keeps at
// most twice the cap on disk. qemu.log and serial.log are written by QEMU itself through a file
// it holds open, so those are rotated when the VM starts (rotateAtStart).
import { appendFile, rename, stat } from 'node:fs/promises';
import { renameSync, statSync } from 'node:fs';

export const LOG_CAP_BYTES = 8 * 1024 * 1024;

export class LogWriter {
  private queue: string[] = [];
  private flushing: Promise<void> | null = null;
  private written = -1;

  constructor(
    readonly path: string,
    private readonly cap = LOG_CAP_BYTES,
  ) {}

  /** Queues one line; it reaches the file shortly after, in order. */
  line(text: string): void {
    this.queue.push(`${new Date().toISOString()} ${text}\n`);
    this.flushing ??= this.flush();
  }

  /** Resolves when every queued line is in the file (tests, and before an engine closes). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length) {
        if (this.written < 0)
          this.written = await stat(this.path).then(
            (s) => s.size,
            () => 0,
          );
        // As many queued lines as fit under the cap go in one write; then the log rotates.
        let chunk = '';
        let bytes = 0;
        while (this.queue.length) {
          const size = Buffer.byteLength(this.queue[0]!);
          if (bytes && this.written + bytes + size > this.cap) break;
          chunk += this.queue.shift();
          bytes += size;
        }
        if (this.written && this.written + bytes > this.cap) {
          await rename(this.path, `${this.path}.1`).catch(() => undefined);
          this.written = 0;
          this.queue.unshift(chunk);
          continue;
        }
        await appendFile(this.path, chunk);
        this.written += bytes;
      }
    } catch {
      // Logging is best effort: a log that cannot be written must not stop supervision.
    } finally {
      this.flushing = null;
      if (this.queue.length) this.flushing = this.flush();
    }
  }
}

/** Before QEMU opens it again: a log over the cap becomes FILE.1, replacing the older one. */
export function rotateAtStart(path: string, cap = LOG_CAP_BYTES): void {
  try {
    if (statSync(path).size > cap) renameSync(path, `${path}.1`);
  } catch {
    // no log yet
  }
}
