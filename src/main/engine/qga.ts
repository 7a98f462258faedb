// The QEMU guest agent, reached over the VM's virtio-serial channel. Used for one thing: to
// freeze the guest's filesystems around a disk-only snapshot. Most guests have no agent, so
// every call is short and "no answer" is an ordinary outcome.
import { connect, type Socket } from 'node:net';

export class GuestAgent {
  private socket: Socket | null = null;
  private buffer = '';
  private waiting: ((line: string) => void) | null = null;

  constructor(readonly path: string) {}

  private async open(): Promise<Socket> {
    if (this.socket) return this.socket;
    const s = connect(this.path);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.on('data', (d: Buffer) => {
      // guest-sync-delimited replies start with 0xFF, which resets the parser on our side.
      this.buffer += d.toString('latin1').replace(/\xff/g, '');
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (line) this.waiting?.(line);
      }
    });
    s.on('error', () => undefined);
    this.socket = s;
    return s;
  }

  /** Sends one command; resolves with its return value, or null when the agent does not answer. */
  async execute<T>(
    command: string,
    args: object | undefined,
    timeoutMs: number,
  ): Promise<{ ok: true; value: T } | { ok: false; error: string } | null> {
    let s: Socket;
    try {
      s = await this.open();
    } catch {
      return null;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        resolve(null);
      }, timeoutMs);
      this.waiting = (line) => {
        let msg: { return?: T; error?: { desc?: string } };
        try {
          msg = JSON.parse(line);
        } catch {
          return;
        }
        clearTimeout(timer);
        this.waiting = null;
        resolve(
          'error' in msg && msg.error
            ? { ok: false, error: msg.error.desc ?? 'error' }
            : { ok: true, value: msg.return as T },
        );
      };
      s.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    });
  }

  /** True when an agent answers; a random id tells this answer from a stale one. */
  async ping(timeoutMs = 1_000): Promise<boolean> {
    const id = Math.floor(Math.random() * 2 ** 31);
    const r = await this.execute<number>('guest-sync-delimited', { id }, timeoutMs);
    return r?.ok === true && r.value === id;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}

/**
 * Runs `fn` with the guest's filesystems frozen when an agent answers; 'crash' says they were
 * not (the snapshot is then as consistent as a power cut). Thawing is never skipped.
 */
export async function withFrozenGuest<T>(
  socketPath: string,
  fn: () => Promise<T>,
): Promise<{ result: T; consistency: 'frozen' | 'crash' }> {
  const agent = new GuestAgent(socketPath);
  try {
    const frozen =
      (await agent.ping()) &&
      (await agent.execute<number>('guest-fsfreeze-freeze', undefined, 10_000))?.ok === true;
    try {
      return { result: await fn(), consistency: frozen ? 'frozen' : 'crash' };
    } finally {
      if (frozen) await agent.execute('guest-fsfreeze-thaw', undefined, 10_000);
    }
  } finally {
    agent.close();
  }
}
