// A client of a VM's serial UNIX socket: collects output, waits for patterns, sends input.
// QEMU serves one serial client at a time, so callers close it when done.
import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { HangarError } from '../../../shared/errors';

/** Output kept for pattern matching; older text is dropped so a chatty guest cannot grow memory. */
const KEEP_CHARS = 1 << 20;

export class SerialConsole {
  private socket: Socket | null = null;
  private buffer = '';
  private readonly decoder = new StringDecoder('utf8');
  private waiters = new Set<() => void>();
  private closed = false;
  private commandSeq = 0;
  onData: ((text: string) => void) | null = null;
  /** Called once when QEMU closes the console (the VM stopped). */
  onClose: (() => void) | null = null;

  constructor(readonly path: string) {}

  connect(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const s = connect(this.path);
        s.once('connect', () => {
          this.socket = s;
          s.on('data', (d: Buffer) => this.push(this.decoder.write(d)));
          s.on('close', () => {
            this.closed = true;
            this.wake();
            this.onClose?.();
          });
          resolve();
        });
        s.once('error', (err: NodeJS.ErrnoException) => {
          s.destroy();
          if ((err.code === 'ENOENT' || err.code === 'ECONNREFUSED') && Date.now() < deadline)
            setTimeout(attempt, 50);
          else
            reject(
              new HangarError('IO_ERROR', `Cannot open the serial console at ${this.path}: ${err.message}`),
            );
        });
      };
      attempt();
    });
  }

  private push(text: string): void {
    this.buffer += text;
    if (this.buffer.length > KEEP_CHARS) this.buffer = this.buffer.slice(-KEEP_CHARS / 2);
    this.onData?.(text);
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  get output(): string {
    return this.buffer;
  }

  /** Forget what was seen so far, so the next wait only matches new output. */
  clear(): void {
    this.buffer = '';
  }

  write(text: string | Buffer): void {
    if (!this.socket || this.closed)
      throw new HangarError('IO_ERROR', 'The serial console is not connected.');
    this.socket.write(text);
  }

  /** Resolves with the match once `pattern` appears in the output (including what is already there). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(this.buffer);
        if (m) return done(() => resolve(m));
        if (this.closed)
          return done(() =>
            reject(new HangarError('IO_ERROR', `The serial console closed before ${pattern} appeared.`)),
          );
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(
              new HangarError(
                'TIMEOUT',
                `${pattern} did not appear on the serial console within ${timeoutMs / 1000} s.`,
              ),
            ),
          ),
        timeoutMs,
      );
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        fn();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Runs a shell command in the guest and returns its output and exit status. */
  async run(command: string, timeoutMs = 30_000): Promise<{ output: string; status: number }> {
    const n = ++this.commandSeq;
    // The markers' printed forms ("-1", digits of $?) never occur in the echo of the typed line,
    // which the guest's line editor may also wrap anywhere.
    this.write(`echo "HANGAR-BEGIN-${n}-$((1))"; ${command}; echo "HANGAR-DONE-${n}-$?"\n`);
    const begin = await this.waitFor(new RegExp(`HANGAR-BEGIN-${n}-1\\r?\\n`), timeoutMs);
    const from = begin.index + begin[0].length;
    const done = await this.waitFor(new RegExp(`HANGAR-DONE-${n}-(\\d+)`), timeoutMs);
    const output = this.buffer.slice(from, done.index).replace(/\r/g, '').trimEnd();
    return { output, status: Number(done[1]) };
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.socket = null;
    this.wake();
  }
}
