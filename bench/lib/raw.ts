// The baselines' side: a bare QMP client and a bare serial reader on the UNIX sockets, with nothing
// of Hangar in the path. Kept as small as a hand-written script would be, so that what Hangar adds
// on top of it is what the ratios show.
import { connect, type Socket } from 'node:net';
import { sleep } from './env';

/** Connects to a UNIX socket, retrying while QEMU has not created it yet. */
export async function connectUnix(path: string, timeoutMs = 30_000, retryMs = 5): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once('connect', () => {
          s.off('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() > deadline) throw err;
      await sleep(retryMs);
    }
  }
}

type Msg = {
  QMP?: unknown;
  return?: unknown;
  error?: { desc: string };
  event?: string;
  data?: Record<string, unknown>;
  id?: number;
};

export class RawQmp {
  private buf = '';
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(m: Msg) => void>();

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (line.trim()) this.dispatch(JSON.parse(line) as Msg);
      }
    });
    // QEMU going away mid-command is reported by the pending calls, not as a crash of the bench.
    sock.on('error', () => undefined);
    sock.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('QMP socket closed'));
      this.pending.clear();
    });
  }

  static async open(path: string): Promise<RawQmp> {
    const q = new RawQmp(await connectUnix(path));
    await q.next((m) => m.QMP !== undefined);
    await q.execute('qmp_capabilities');
    return q;
  }

  private dispatch(m: Msg): void {
    if (typeof m.id === 'number') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error.desc));
      else p?.resolve(m.return);
    }
    for (const l of [...this.listeners]) l(m);
  }

  /** The next message matching `match`; register it before sending what causes it. */
  next(match: (m: Msg) => boolean, timeoutMs = 600_000): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(l);
        reject(new Error('timed out waiting for a QMP message'));
      }, timeoutMs);
      const l = (m: Msg) => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.listeners.delete(l);
        resolve(m);
      };
      this.listeners.add(l);
    });
  }

  execute<T = unknown>(command: string, args?: object): Promise<T> {
    const id = ++this.seq;
    this.sock.write(JSON.stringify({ execute: command, arguments: args, id }) + '\n');
    return new Promise((resolve, reject) =>
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }),
    );
  }

  /** A snapshot-save/load job the way a script would run it: start, wait concluded, dismiss. */
  async job(command: string, args: Record<string, unknown>): Promise<void> {
    const jobId = `raw-${++this.seq}`;
    const done = this.next(
      (m) => m.event === 'JOB_STATUS_CHANGE' && m.data?.id === jobId && m.data?.status === 'concluded',
    );
    await this.execute(command, { 'job-id': jobId, ...args });
    await done;
    const jobs = await this.execute<{ id: string; error?: string }[]>('query-jobs');
    await this.execute('job-dismiss', { id: jobId });
    const err = jobs.find((j) => j.id === jobId)?.error;
    if (err) throw new Error(`${command}: ${err}`);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Reads a byte stream until `marker` appears; resolves with the bytes and chunks counted and when. */
export function readUntil(
  onData: (fn: (chunk: Buffer) => void) => void,
  marker: string,
  timeoutMs: number,
): Promise<{ bytes: number; chunks: number; at: number }> {
  return new Promise((resolve, reject) => {
    let tail = '';
    let bytes = 0;
    let chunks = 0;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`"${marker}" did not appear within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    onData((chunk) => {
      if (done) return;
      bytes += chunk.length;
      chunks++;
      // Only the tail is kept: the marker may straddle two chunks, the rest is not needed.
      tail = (tail + chunk.toString('latin1')).slice(-(marker.length + chunk.length));
      if (tail.includes(marker)) {
        done = true;
        clearTimeout(timer);
        resolve({ bytes, chunks, at: performance.now() });
      }
    });
  });
}
