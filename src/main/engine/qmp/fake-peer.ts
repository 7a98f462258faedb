// A scriptable stand-in for QEMU's QMP server on a real UNIX socket, for unit tests: it greets each
// connection, answers `qmp_capabilities` and, unless a test says otherwise, every command with
// `{"return": {}}`. Tests script replies per command, write raw bytes, and wait for what it received.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PeerCommand {
  execute: string;
  arguments?: Record<string, unknown>;
  id?: unknown;
  /** The line exactly as received, without its newline. */
  raw: string;
  /** 1 for the first connection, 2 after a reconnect, ... */
  connection: number;
}

export type PeerReply = { return: unknown } | { error: { class: string; desc: string } };

/** Returns the reply to send, or undefined to send none (the test may answer later with reply()). */
export type PeerHandler = (command: PeerCommand, peer: FakeQmpPeer) => PeerReply | undefined;

export interface FakePeerOptions {
  /** Socket path; default q.sock in a fresh temp dir. */
  path?: string;
  /** Greet automatically on connect (default true); with false the test calls sendGreeting(). */
  greet?: boolean;
  version?: { major: number; minor: number; micro: number };
}

export class FakeQmpPeer {
  readonly received: PeerCommand[] = [];
  connections = 0;
  private socket: net.Socket | undefined;
  private readonly handlers = new Map<string, PeerHandler>();
  private readonly claimed = new Set<PeerCommand>();
  private readonly watchers = new Set<() => void>();

  private constructor(
    readonly path: string,
    private readonly dir: string | undefined,
    private readonly server: net.Server,
    private readonly options: FakePeerOptions,
  ) {}

  static async start(options: FakePeerOptions = {}): Promise<FakeQmpPeer> {
    // Short name under /tmp: UNIX socket paths are limited to 108 bytes.
    const dir = options.path ? undefined : mkdtempSync(join(tmpdir(), 'qmp-'));
    const path = options.path ?? join(dir as string, 'q.sock');
    const server = net.createServer();
    const peer = new FakeQmpPeer(path, dir, server, options);
    server.on('connection', (socket) => peer.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    return peer;
  }

  /** Scripts the answer to every later command named `name`. */
  handle(name: string, handler: PeerHandler): void {
    this.handlers.set(name, handler);
  }

  sendGreeting(): void {
    const qemu = this.options.version ?? { major: 7, minor: 2, micro: 0 };
    this.send({ QMP: { version: { qemu, package: 'fake-peer' }, capabilities: ['oob'] } });
  }

  /** Sends one message as QEMU does: JSON and CRLF. */
  send(message: unknown): void {
    this.writeRaw(`${JSON.stringify(message)}\r\n`);
  }

  writeRaw(data: string | Buffer): void {
    if (!this.socket) throw new Error('fake QMP peer has no client connected');
    this.socket.write(data);
  }

  /** Resolves once everything written so far has been handed to the kernel. */
  flush(): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.write('', () => resolve()));
  }

  sendEvent(event: string, data: Record<string, unknown> = {}): void {
    this.send({ event, data, timestamp: { seconds: 1700000000, microseconds: 1 } });
  }

  reply(command: PeerCommand, value: unknown = {}): void {
    this.send({ return: value, id: command.id });
  }

  replyError(command: PeerCommand, errorClass: string, desc: string): void {
    this.send({ error: { class: errorClass, desc }, id: command.id });
  }

  /** The next command named `name` not yet returned by an earlier call, received or still to come. */
  waitForCommand(name: string): Promise<PeerCommand> {
    return this.until(() => {
      const found = this.received.find((c) => c.execute === name && !this.claimed.has(c));
      if (found) this.claimed.add(found);
      return found;
    });
  }

  waitForConnection(count = this.connections + 1): Promise<void> {
    return this.until(() => (this.connections >= count ? true : undefined)).then(() => undefined);
  }

  /** Resolves when the current client connection has closed. */
  waitForDisconnect(): Promise<void> {
    return this.until(() => (this.socket ? undefined : true)).then(() => undefined);
  }

  /** Hangs up on the client, as QEMU does when it exits. */
  dropConnection(): void {
    this.socket?.destroy();
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private accept(socket: net.Socket): void {
    // One client at a time, like QEMU's monitor chardev.
    this.socket?.destroy();
    this.socket = socket;
    const connection = ++this.connections;
    socket.setEncoding('utf8');
    let buffered = '';
    socket.on('data', (text: string) => {
      buffered += text;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const raw = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.onLine(raw, connection);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.changed();
    });
    if (this.options.greet !== false) this.sendGreeting();
    this.changed();
  }

  private onLine(raw: string, connection: number): void {
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // Recorded anyway with an empty name, so a test can see the client sent garbage.
    }
    const command: PeerCommand = {
      execute: typeof parsed.execute === 'string' ? parsed.execute : '',
      ...(parsed.arguments !== undefined ? { arguments: parsed.arguments as Record<string, unknown> } : {}),
      ...('id' in parsed ? { id: parsed.id } : {}),
      raw,
      connection,
    };
    this.received.push(command);
    const handler = this.handlers.get(command.execute);
    const reply = handler ? handler(command, this) : { return: {} };
    if (reply && this.socket) this.send({ ...reply, id: command.id });
    this.changed();
  }

  private until<T>(check: () => T | undefined): Promise<T> {
    return new Promise((resolve) => {
      const test = () => {
        const value = check();
        if (value === undefined) return;
        this.watchers.delete(test);
        resolve(value);
      };
      this.watchers.add(test);
      test();
    });
  }

  private changed(): void {
    for (const test of [...this.watchers]) test();
  }
}
