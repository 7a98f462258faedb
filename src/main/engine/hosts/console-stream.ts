// A console connection that is still being set up (a virsh call, an SSH forward) when the
// WebSocket bridge already wants a stream: it looks like a connecting socket (connecting, then
// 'connect'), keeps writes until the real stream is there, then passes bytes both ways. The
// bridge (server/console-bridge.ts) treats it exactly as a VM's console UNIX socket.
import { Duplex } from 'node:stream';

export class ConsoleStream extends Duplex {
  connecting = true;
  private inner: Duplex | null = null;
  private waiting: (() => void)[] = [];
  private readonly cleanups: (() => void)[] = [];

  /** Runs when the stream ends, however it ends (a child to kill, a forward to cancel). */
  onCleanup(fn: () => void): void {
    if (this.destroyed) fn();
    else this.cleanups.push(fn);
  }

  /** The real stream is ready: from now on bytes pass through. */
  use(inner: Duplex): void {
    if (this.destroyed) {
      inner.destroy();
      return;
    }
    this.inner = inner;
    inner.on('data', (d: Buffer) => {
      if (!this.push(d)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => this.destroy());
    this.connecting = false;
    this.emit('connect');
    for (const w of this.waiting.splice(0)) w();
  }

  /** Setting up failed: the bridge reports the console as unreachable. */
  fail(err: Error): void {
    this.destroy(err);
  }

  override _read(): void {
    this.inner?.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.inner) this.inner.write(chunk, cb);
    else this.waiting.push(() => this.inner!.write(chunk, cb));
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.inner?.destroy();
    for (const fn of this.cleanups.splice(0)) {
      try {
        fn();
      } catch {
        // Cleanup is best effort; the stream is gone either way.
      }
    }
    cb(err);
  }
}
