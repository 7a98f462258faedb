// A session with one VM's QEMU guest agent over its virtio-serial channel (a UNIX socket QEMU serves).
//
// qemu-ga has no greeting and no command ids we can rely on: it answers one command at a time, in
// order, and a reply says nothing about which command it answers. What keeps the stream honest is
// guest-sync-delimited: we send 0xFF (the agent drops any half-read input) and the sync with a random
// id; the agent answers 0xFF then the id, and every line before that answer is stale (a reply meant for
// an earlier session, a late reply to a command we gave up on, or whatever the guest left in the pipe).
// So a connection is synced once before its first command, and again after any command it stopped
// waiting for. Commands run one at a time per session, queued in call order; a reply is taken only
// while its command waits.
//
// The guest is untrusted: a line is bounded (a guest that never sends a newline gets its connection
// dropped, the waiting command fails, the next call opens a fresh, synced connection), a silent agent
// costs each call its own timeout and nothing else, and every failure is a value, never a throw.
import { randomInt } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { ReplyReader } from './reader';

export const AGENT_DEFAULTS = {
  /** Like the QMP client's limit: ample for the agent's replies, small enough to never hurt. */
  maxLineBytes: 16 * 1024 * 1024,
  /** The agent's error texts are shown to users; a guest could make them as long as a line. */
  maxErrorChars: 1_000,
} as const;

export interface AgentSessionOptions {
  maxLineBytes?: number;
}

/** Why a command got no answer. */
export type NoAnswer =
  | 'unreachable' // the socket could not be opened (no VM, no channel)
  | 'timeout' // nothing usable came back in time (no agent in the guest, or a busy or hung one)
  | 'closed' // the connection ended before the answer, or the session was closed
  | 'too-long'; // the guest sent a line longer than the limit; the connection was dropped

/**
 * What a command got. `value` is the guest's word: callers check its shape before trusting it.
 * `ok: false` with `answered: true` is an error the agent returned; with `answered: false`, no answer.
 */
export type AgentReply<T> =
  | { ok: true; value: T }
  | { ok: false; answered: true; errorClass: string; error: string }
  | { ok: false; answered: false; reason: NoAnswer; error: string };

type Message = Record<string, unknown>;
type Outcome = { message: Message } | { reason: NoAnswer; error: string };

interface Waiter {
  /** Offered every message that arrives while waiting; true when it was the awaited one. */
  accept(message: Message): boolean;
  fail(reason: NoAnswer, error: string): void;
}

interface Connection {
  socket: Socket;
  reader: ReplyReader;
  synced: boolean;
  waiter: Waiter | null;
}

const EXPLAIN: Record<NoAnswer, string> = {
  unreachable: 'the guest agent channel could not be opened',
  timeout: 'the guest agent did not answer in time',
  closed: 'the guest agent connection closed',
  'too-long': 'the guest agent sent a line over the size limit',
};

function noAnswer(reason: NoAnswer, error = EXPLAIN[reason]): { reason: NoAnswer; error: string } {
  return { reason, error };
}

function parse(line: string): Message | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Message) : undefined;
  } catch {
    return undefined;
  }
}

function shorten(value: unknown, fallback: string): string {
  const text = typeof value === 'string' ? value : fallback;
  const max = AGENT_DEFAULTS.maxErrorChars;
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

export class GuestAgent {
  private conn: Connection | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly maxLineBytes: number;

  constructor(
    readonly path: string,
    options: AgentSessionOptions = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? AGENT_DEFAULTS.maxLineBytes;
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.conn !== null;
  }

  /** Bytes held for a reply line not yet complete (never more than the limit). */
  get bufferedBytes(): number {
    return this.conn?.reader.bufferedBytes ?? 0;
  }

  /**
   * Sends one command and waits up to `timeoutMs` (counted from this call, including its wait behind
   * earlier commands of this session and the sync of a fresh connection). Never throws.
   */
  execute<T = unknown>(command: string, args: object | undefined, timeoutMs: number): Promise<AgentReply<T>> {
    const line = JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n';
    return this.enqueue(timeoutMs, async (deadline) => {
      const conn = await this.ready(deadline);
      if ('reason' in conn) return { ok: false, answered: false, ...conn };
      const outcome = await this.exchange(conn, line, deadline, (m) => 'return' in m || 'error' in m);
      if ('reason' in outcome) return { ok: false, answered: false, ...outcome };
      const { message } = outcome;
      if ('error' in message) {
        const err = (message.error && typeof message.error === 'object' ? message.error : {}) as Message;
        return {
          ok: false,
          answered: true,
          errorClass: shorten(err.class, 'GenericError'),
          error: shorten(err.desc, 'error'),
        };
      }
      return { ok: true, value: message.return as T };
    });
  }

  /** True when the agent answers a fresh sync within `timeoutMs`. */
  ping(timeoutMs = 1_000): Promise<boolean> {
    return this.enqueue(timeoutMs, async (deadline) => {
      const conn = await this.open(deadline);
      if ('reason' in conn) return false;
      return (await this.sync(conn, deadline)) === true;
    });
  }

  /** Ends the connection; a waiting command fails with 'closed'. A later call opens a new one. */
  close(): void {
    // A connect still under way would otherwise finish after the close and hold the channel
    // (and the process) open; it is cut off and its caller told 'closed'.
    for (const abort of this.connecting) abort();
    if (this.conn) this.drop(this.conn, 'closed');
  }

  private readonly connecting = new Set<() => void>();

  private enqueue<R>(timeoutMs: number, run: (deadline: number) => Promise<R>): Promise<R> {
    const deadline = Date.now() + timeoutMs;
    const turn = this.tail.then(() => run(deadline));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** An open connection that has been synced, or why there is none. */
  private async ready(deadline: number): Promise<Connection | { reason: NoAnswer; error: string }> {
    const conn = await this.open(deadline);
    if ('reason' in conn || conn.synced) return conn;
    const synced = await this.sync(conn, deadline);
    return synced === true ? conn : synced;
  }

  private async sync(
    conn: Connection,
    deadline: number,
  ): Promise<true | { reason: NoAnswer; error: string }> {
    conn.synced = false;
    const id = randomInt(2 ** 31 - 1);
    const request = Buffer.concat([
      Buffer.from([0xff]),
      Buffer.from(JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } }) + '\n'),
    ]);
    const outcome = await this.exchange(conn, request, deadline, (m) => m.return === id);
    if ('reason' in outcome) return outcome;
    conn.synced = true;
    return true;
  }

  /** Writes `data` and waits for the first message `accept` takes; everything else is dropped. */
  private exchange(
    conn: Connection,
    data: string | Buffer,
    deadline: number,
    accept: (message: Message) => boolean,
  ): Promise<Outcome> {
    return new Promise((resolve) => {
      if (this.conn !== conn) return resolve(noAnswer('closed'));
      const remaining = deadline - Date.now();
      if (remaining <= 0) return resolve(noAnswer('timeout'));
      const finish = (outcome: Outcome) => {
        clearTimeout(timer);
        if (conn.waiter === waiter) conn.waiter = null;
        resolve(outcome);
      };
      const waiter: Waiter = {
        accept: (message) => {
          if (!accept(message)) return false;
          finish({ message });
          return true;
        },
        fail: (reason, error) => finish({ reason, error }),
      };
      const timer = setTimeout(() => {
        // Its answer may still come; a sync must sort it out before the next command.
        conn.synced = false;
        finish(noAnswer('timeout'));
      }, remaining);
      conn.waiter = waiter;
      conn.socket.write(data);
    });
  }

  private open(deadline: number): Promise<Connection | { reason: NoAnswer; error: string }> {
    if (this.conn) return Promise.resolve(this.conn);
    return new Promise((resolve) => {
      const socket = connect(this.path);
      const settle = (result: Connection | { reason: NoAnswer; error: string }) => {
        clearTimeout(timer);
        this.connecting.delete(abort);
        socket.off('connect', onConnect);
        socket.off('error', onError);
        resolve(result);
      };
      const abort = () => {
        socket.destroy();
        settle(noAnswer('closed'));
      };
      this.connecting.add(abort);
      const onConnect = () => settle(this.attach(socket));
      const onError = (err: NodeJS.ErrnoException) => {
        socket.destroy();
        settle(noAnswer('unreachable', `${EXPLAIN.unreachable} (${err.code ?? err.message})`));
      };
      // QEMU serves one client at a time: while another holds the channel, a connect can wait unanswered.
      const timer = setTimeout(
        () => {
          socket.destroy();
          settle(noAnswer('timeout', 'the guest agent channel did not accept the connection in time'));
        },
        Math.max(0, deadline - Date.now()),
      );
      socket.once('connect', onConnect);
      socket.once('error', onError);
    });
  }

  private attach(socket: Socket): Connection {
    const conn: Connection = {
      socket,
      reader: new ReplyReader(this.maxLineBytes),
      synced: false,
      waiter: null,
    };
    this.conn = conn;
    socket.on('data', (chunk: Buffer) => {
      if (this.conn !== conn) return;
      for (const line of conn.reader.push(chunk)) {
        const message = parse(line.trim());
        // Taken by the command waiting for it, or stale: nothing else reads the agent's output.
        if (message) conn.waiter?.accept(message);
      }
      if (conn.reader.overflowed) this.drop(conn, 'too-long');
    });
    // Kept for the socket's life: an 'error' with no listener would crash the engine.
    socket.on('error', () => this.drop(conn, 'closed'));
    socket.on('close', () => this.drop(conn, 'closed'));
    return conn;
  }

  private drop(conn: Connection, reason: NoAnswer): void {
    if (this.conn !== conn) return;
    this.conn = null;
    conn.socket.destroy();
    conn.waiter?.fail(reason, EXPLAIN[reason]);
  }
}
