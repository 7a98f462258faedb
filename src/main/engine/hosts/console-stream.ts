// A console connection that is still being set up (a virsh call, an SSH forward) when the
// WebSocket bridge already wants a stream: it looks like a connecting socket (connecting, then
// 'connect'), keeps writes until the real stream is there, then passes bytes both ways. The
// bridge (server/console-bridge.ts) treats it exactly as a VM's console UNIX socket.
import { Socket } from 'node:net';
import { Duplex, type Readable, type Writable } from 'node:stream';

export class ConsoleStream extends Duplex {
  connecting = true;
  private source: Readable | null = null;
  private sink: Writable | null = null;
  private waiting: (() => void)[] = [];
  private readonly cleanups: (() => void)[] = [];

  /** Runs when the stream ends, however it ends (a child to kill, a forward to cancel). */
  onCleanup(fn: () => void): void {
    if (this.destroyed) fn();
    else this.cleanups.push(fn);
  }

  /**
   * The real stream is there: bytes come from `source` and go to `sink` (one socket, or a child's
   * stdout and stdin). It counts as connected once a socket connects.
   */
  use(source: Readable, sink: Writable): void {
    if (this.destroyed) {
      source.destroy();
      sink.destroy();
      return;
    }
    this.source = source;
    this.sink = sink;
    source.on('data', (d: Buffer) => {
      if (!this.push(d)) source.pause();
    });
    // The far end finished: what it sent is read to the last byte before the stream closes.
    source.on('end', () => {
      this.once('end', () => this.destroy());
      this.push(null);
    });
    source.on('error', (err) => this.destroy(err));
    // A child's stdin fails once the child is gone (EPIPE); its stdout's end says so already.
    if ((sink as unknown) !== source) sink.on('error', () => undefined);
    const ready = () => {
      this.connecting = false;
      this.emit('connect');
      for (const w of this.waiting.splice(0)) w();
    };
    if (source instanceof Socket && source.connecting) source.once('connect', ready);
    else ready();
  }

  /** Setting up failed: the bridge reports the console as unreachable. */
  fail(err: Error): void {
    this.destroy(err);
  }

  override _read(): void {
    this.source?.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const write = () => {
      // A write after the far end went away is dropped; the end of its output closes the console.
      if (this.sink!.writableEnded || this.sink!.destroyed) return cb();
      this.sink!.write(chunk, () => cb());
    };
    if (this.sink && !this.connecting) write();
    else this.waiting.push(write);
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.source?.destroy();
    if ((this.sink as unknown) !== this.source) this.sink?.destroy();
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
