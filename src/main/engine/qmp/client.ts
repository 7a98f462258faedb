// A QMP client for one QEMU's control socket, modelled on the behaviour of QEMU's own Python client:
// a state machine, the greeting and `qmp_capabilities` before anything else, an id on every command with
// replies matched through a pending map, events to listeners registered ahead of time, and every
// waiting call failed when the connection goes.
//
// Commands issued while connect() is still running are queued and sent, in order, once negotiation is
// done (their timeout runs from the execute() call). Commands issued with no connect() under way fail
// at once with QmpStateError.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { QmpConnectError, QmpDisconnectedError, QmpProtocolError, QmpStateError } from './errors';
import type { QmpProtocolErrorKind } from './errors';
import { deferred } from './deferred';
import type { Deferred } from './deferred';
import { EventListeners } from './events';
import { LineSplitter } from './lines';
import { PendingCommands } from './pending';
import type { PendingCommand } from './pending';
import { isRetryable, openSocket, sleep, toConnectError } from './socket';
import type {
  QmpClientOptions,
  QmpCloseReason,
  QmpConnectOptions,
  QmpEvent,
  QmpEventListener,
  QmpExecuteOptions,
  QmpGreeting,
  QmpLogEntry,
  QmpState,
  QmpVersionTriple,
  QmpWaitForEventOptions,
} from './types';
import { parseMessage, shorten } from './wire';
import type { QmpReplyMessage } from './wire';

export const QMP_DEFAULTS = {
  commandTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  maxLineBytes: 16 * 1024 * 1024,
  retryIntervalMs: 50,
  logMaxChars: 2000,
} as const;

export type QmpClientEvents = {
  /** Every QMP event, after the named listeners. */
  event: [QmpEvent];
  ready: [QmpGreeting];
  /** An opened connection ended; every waiting call has been rejected already. */
  close: [QmpCloseReason];
  /** The peer broke the protocol; fatal ones are followed by 'close'. */
  'protocol-error': [QmpProtocolError];
  state: [next: QmpState, previous: QmpState];
};

interface Connection {
  socket: net.Socket;
  lines: LineSplitter;
  greeting: Deferred<QmpGreeting>;
  closed: Promise<void>;
}

const SECRET_OBJECT = /^\{"execute":"object-add",.*"qom-type":"secret"/;

export class QmpClient extends EventEmitter<QmpClientEvents> {
  readonly path: string;
  private readonly options: Required<Omit<QmpClientOptions, 'onLog'>> & Pick<QmpClientOptions, 'onLog'>;
  private _state: QmpState = 'idle';
  private _greeting: QmpGreeting | undefined;
  private conn: Connection | undefined;
  private connecting: { abort: AbortController; done: Promise<unknown> } | undefined;
  private readonly pending = new PendingCommands();
  private readonly listeners_ = new EventListeners((err, event) =>
    this.log('note', `listener for ${event.event} threw: ${String(err)}`),
  );

  constructor(options: QmpClientOptions | string) {
    super();
    const o = typeof options === 'string' ? { path: options } : options;
    this.path = o.path;
    this.options = { ...QMP_DEFAULTS, ...o };
  }

  get state(): QmpState {
    return this._state;
  }

  /** The greeting of the current (or last) connection. */
  get greeting(): QmpGreeting | undefined {
    return this._greeting;
  }

  get qemuVersion(): QmpVersionTriple | undefined {
    return this._greeting?.version.qemu;
  }

  /**
   * Opens the socket, reads the greeting and negotiates capabilities. Allowed when idle or closed, so
   * the same client reconnects after a close. Rejects with QmpConnectError.
   */
  connect(options: QmpConnectOptions = {}): Promise<QmpGreeting> {
    if (this._state !== 'idle' && this._state !== 'closed') {
      return Promise.reject(new QmpStateError(`connect() called while ${this._state}`, this._state));
    }
    const abort = new AbortController();
    const done = this.runConnect(options, abort);
    this.connecting = { abort, done: done.catch(() => undefined) };
    return done;
  }

  /** Sends a command and resolves with its `return` member. */
  execute<T = unknown>(command: string, args?: object, options: QmpExecuteOptions = {}): Promise<T> {
    const s = this._state;
    if (s !== 'ready' && s !== 'connecting' && s !== 'negotiating') {
      return Promise.reject(new QmpStateError(`Cannot execute ${command}: QMP client is ${s}`, s));
    }
    return this.send(command, args, options.timeoutMs ?? this.options.commandTimeoutMs, false) as Promise<T>;
  }

  /** Calls `listener` for each event named `name` ('*' for all); returns the function that unsubscribes. */
  onEvent<D = Record<string, unknown>>(name: string, listener: QmpEventListener<D>): () => void {
    return this.listeners_.on(name, listener);
  }

  /**
   * Resolves with the next event named `name` that passes `predicate`. Call it before executing the
   * command that causes the event. Rejects with QmpEventTimeoutError, or QmpDisconnectedError when the
   * connection ends first.
   */
  waitForEvent<D = Record<string, unknown>>(
    name: string,
    options: QmpWaitForEventOptions<D> = {},
  ): Promise<QmpEvent<D>> {
    return this.listeners_.wait(name, options, this.options.commandTimeoutMs);
  }

  /** Closes the connection (or stops a connect under way). Never rejects. */
  async close(): Promise<void> {
    const connecting = this.connecting;
    connecting?.abort.abort(new QmpConnectError(this.path, 'CLOSED', 'close() was called'));
    const conn = this.conn;
    if (conn) {
      this.teardown(conn, { kind: 'requested', message: 'close() was called' });
      await conn.closed;
    }
    await connecting?.done;
  }

  private async runConnect(options: QmpConnectOptions, abort: AbortController): Promise<QmpGreeting> {
    const retryUntil = Math.max(options.retryUntil ?? 0, Date.now() + (options.retryForMs ?? 0));
    const interval = options.retryIntervalMs ?? QMP_DEFAULTS.retryIntervalMs;
    const timeoutMs = options.timeoutMs ?? this.options.connectTimeoutMs;
    const onOuterAbort = () => abort.abort(new QmpConnectError(this.path, 'ABORTED', 'connect was aborted'));
    if (options.signal?.aborted) onOuterAbort();
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    this._greeting = undefined;
    this.setState('connecting');
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.attempt(timeoutMs, abort.signal);
        } catch (err) {
          if (abort.signal.aborted || !isRetryable(err) || Date.now() + interval > retryUntil) throw err;
          if (attempt === 1) this.log('note', `waiting for ${this.path}: ${(err as Error).message}`);
          await sleep(interval, abort.signal);
        }
      }
    } catch (err) {
      const error = toConnectError(this.path, abort.signal.aborted ? abort.signal.reason : err);
      const reason: QmpCloseReason = { kind: 'connect-failed', message: error.message, error };
      if (this.conn) {
        this.teardown(this.conn, reason);
      } else if (this._state === 'connecting') {
        // No socket was ever opened: nothing to close, but queued commands must not hang.
        this.pending.failAll(reason);
        this.setState('closed');
      }
      this.log('note', error.message);
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onOuterAbort);
      if (this.connecting?.abort === abort) this.connecting = undefined;
    }
  }

  private async attempt(timeoutMs: number, signal: AbortSignal): Promise<QmpGreeting> {
    const local = new AbortController();
    const onAbort = () => local.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
          const err = new QmpConnectError(this.path, 'TIMEOUT', `no QMP handshake within ${timeoutMs} ms`);
          local.abort(err);
        }, timeoutMs)
      : undefined;
    try {
      const socket = await openSocket(this.path, local.signal);
      const conn = this.attach(socket);
      const aborted = new Promise<never>((_, reject) => {
        if (local.signal.aborted) reject(local.signal.reason);
        local.signal.addEventListener('abort', () => reject(local.signal.reason), { once: true });
      });
      return await Promise.race([this.negotiate(conn), aborted]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // Settles the `aborted` promise's listener; the race has already handled its outcome.
      local.abort(new QmpConnectError(this.path, 'ABORTED', 'attempt finished'));
    }
  }

  private attach(socket: net.Socket): Connection {
    const conn: Connection = {
      socket,
      lines: new LineSplitter(this.options.maxLineBytes),
      greeting: deferred<QmpGreeting>(),
      closed: new Promise<void>((resolve) => socket.once('close', () => resolve())),
    };
    // Nobody may await the greeting if the attempt already failed; a rejection must not go unhandled.
    conn.greeting.promise.catch(() => undefined);
    this.conn = conn;
    this.setState('negotiating');
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('end', () => this.teardown(conn, { kind: 'eof', message: 'QEMU closed the QMP connection' }));
    // Stays attached after teardown: a socket 'error' with no listener would crash the process.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A write racing QEMU's exit fails with EPIPE/ECONNRESET: that is the peer leaving, not a fault.
      const gone = err.code === 'EPIPE' || err.code === 'ECONNRESET';
      const kind = gone ? 'eof' : 'socket-error';
      const message = gone ? `QEMU closed the QMP connection (${err.code})` : err.message;
      this.teardown(conn, { kind, message, error: err });
    });
    socket.on('close', () => this.teardown(conn, { kind: 'eof', message: 'QMP socket closed' }));
    return conn;
  }

  private async negotiate(conn: Connection): Promise<QmpGreeting> {
    const greeting = await conn.greeting.promise;
    this._greeting = greeting;
    if (this.conn === conn) await this.send('qmp_capabilities', undefined, Infinity, true);
    if (this.conn !== conn) throw new QmpConnectError(this.path, 'CLOSED', 'QMP closed during negotiation');
    // Queued commands go out before the state says ready, so a 'state' listener cannot jump the queue.
    for (const p of this.pending.unsent()) this.write(conn, p);
    this.setState('ready');
    this.safeEmit('ready', greeting);
    return greeting;
  }

  private send(command: string, args: object | undefined, timeoutMs: number, now: boolean): Promise<unknown> {
    let added;
    try {
      added = this.pending.add(command, args, timeoutMs);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const [p, result] = added;
    if ((now || this._state === 'ready') && this.conn) this.write(this.conn, p);
    return result;
  }

  private write(conn: Connection, p: PendingCommand): void {
    p.sent = true;
    // A secret object carries a key in its arguments (an encrypted backup's): the log, a file
    // beside the VM, gets its name only.
    this.log(
      'send',
      SECRET_OBJECT.test(p.line) ? '{"execute":"object-add","arguments":"(a secret: not logged)"}' : p.line,
    );
    conn.socket.write(`${p.line}\n`);
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (this.conn !== conn) return;
    const lines = conn.lines.push(chunk);
    for (const line of lines) {
      // A line may have closed the connection (fatal protocol error); the rest belong to nobody.
      if (this.conn !== conn) return;
      this.onLine(conn, line);
    }
    if (conn.lines.overflow !== undefined && this.conn === conn) {
      const max = conn.lines.maxLineBytes;
      this.protocolError(conn, 'line-too-long', `QMP line longer than ${max} bytes`, true);
    }
  }

  private onLine(conn: Connection, raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    this.log('recv', line);
    let msg;
    try {
      msg = parseMessage(line);
    } catch (err) {
      if (!(err instanceof QmpProtocolError)) throw err;
      this.reportProtocolError(err);
      return;
    }
    if (!conn.greeting.settled) {
      if (msg.type === 'greeting') conn.greeting.resolve(msg.greeting);
      else this.protocolError(conn, 'expected-greeting', `QMP peer spoke before its greeting`, true, line);
      return;
    }
    switch (msg.type) {
      case 'greeting':
        this.protocolError(conn, 'unexpected-greeting', 'QMP greeting mid-session', false, line);
        return;
      case 'event':
        this.listeners_.dispatch(msg.event);
        this.safeEmit('event', msg.event);
        return;
      case 'return':
      case 'error':
        this.onReply(conn, msg, line);
    }
  }

  private onReply(conn: Connection, msg: QmpReplyMessage, line: string): void {
    // QEMU answers input it could not parse with an id-less error. It belongs to no command, and
    // guessing one would hand every later caller the previous caller's reply.
    if (msg.id === undefined) {
      this.protocolError(conn, 'reply-without-id', 'QMP reply without an id', false, line);
      return;
    }
    const reply =
      msg.type === 'return'
        ? { ok: true as const, value: msg.value }
        : { ok: false as const, errorClass: msg.errorClass, desc: msg.desc };
    const result = this.pending.settle(msg.id, reply);
    if (result === 'late') this.log('note', `late reply to timed-out command ${String(msg.id)} ignored`);
    if (result === 'unknown') {
      const message = `QMP reply with unknown id ${JSON.stringify(msg.id)}`;
      this.protocolError(conn, 'unknown-id', message, false, line);
    }
  }

  private protocolError(
    conn: Connection,
    kind: QmpProtocolErrorKind,
    message: string,
    fatal: boolean,
    line?: string,
  ): void {
    const err = new QmpProtocolError(
      kind,
      message,
      fatal,
      line === undefined ? undefined : shorten(line, 200),
    );
    this.reportProtocolError(err);
    if (fatal) this.teardown(conn, { kind: 'protocol-error', message, error: err });
  }

  private reportProtocolError(err: QmpProtocolError): void {
    this.log('note', `protocol error (${err.kind}): ${err.message}${err.line ? `: ${err.line}` : ''}`);
    this.safeEmit('protocol-error', err);
  }

  /** Ends `conn` once: rejects everything waiting on it, destroys the socket, then reports 'close'. */
  private teardown(conn: Connection, reason: QmpCloseReason): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.setState('closing');
    conn.socket.destroy();
    if (!conn.greeting.settled) conn.greeting.reject(new QmpDisconnectedError(undefined, reason));
    this.pending.failAll(reason);
    this.listeners_.rejectWaits(reason);
    this.log('note', `closed (${reason.kind}): ${reason.message}`);
    this.setState('closed');
    this.safeEmit('close', reason);
  }

  private setState(next: QmpState): void {
    const previous = this._state;
    if (previous === next) return;
    this._state = next;
    this.safeEmit('state', next, previous);
  }

  /** A throwing listener must not break the read loop or leave the state half-updated. */
  private safeEmit<K extends keyof QmpClientEvents>(name: K, ...args: QmpClientEvents[K]): void {
    try {
      (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
    } catch (err) {
      this.log('note', `'${name}' listener threw: ${String(err)}`);
    }
  }

  private log(direction: QmpLogEntry['direction'], text: string): void {
    const onLog = this.options.onLog;
    if (!onLog) return;
    try {
      onLog({ direction, text: shorten(text, this.options.logMaxChars) });
    } catch {
      // A broken log sink must not take the connection down.
    }
  }
}
