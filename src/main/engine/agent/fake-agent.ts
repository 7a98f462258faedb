// A scriptable stand-in for qemu-ga behind QEMU's chardev socket, for unit tests, on a real UNIX socket.
// Like the real agent it reads commands one at a time and answers them in order (a command whose
// handler is still busy holds back the ones after it), treats 0xFF as "drop the partial input", and
// answers guest-sync-delimited with 0xFF and the id. Other commands get {"return": {}} unless a test
// scripts them. Its state (a busy command, half-read input) outlives a connection, as the real agent's does.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AgentCommand {
  execute: string;
  arguments?: Record<string, unknown>;
  /** 1 for the first connection, 2 for the next, ... */
  connection: number;
}

/** A JSON reply, raw bytes to write instead, or undefined to stay silent. */
export type AgentAnswer = { return: unknown } | { error: { class: string; desc: string } } | { raw: Buffer };

export type AgentHandler = (
  command: AgentCommand,
  agent: FakeAgent,
) => AgentAnswer | undefined | Promise<AgentAnswer | undefined>;

export function syncAnswer(command: AgentCommand): AgentAnswer {
  const id = command.arguments?.id;
  return { raw: Buffer.concat([Buffer.from([0xff]), Buffer.from(JSON.stringify({ return: id }) + '\n')]) };
}

export class FakeAgent {
  readonly received: AgentCommand[] = [];
  connections = 0;
  closedConnections = 0;
  /** Bytes written to clients, over all connections. */
  bytesWritten = 0;
  /** Called on every new connection, before anything is read (to leave stale output, to flood). */
  onConnect: ((socket: net.Socket, agent: FakeAgent) => void) | undefined;
  private socket: net.Socket | undefined;
  private readonly handlers = new Map<string, AgentHandler>();
  private readonly watchers = new Set<() => void>();
  private busy: Promise<void> = Promise.resolve();
  /** Input not yet a whole line; the guest side of the channel keeps it across host connections. */
  private input = Buffer.alloc(0);

  private constructor(
    readonly path: string,
    private readonly dir: string,
    private readonly server: net.Server,
  ) {}

  static async start(): Promise<FakeAgent> {
    // Short name under /tmp: UNIX socket paths are limited to 108 bytes.
    const dir = mkdtempSync(join(tmpdir(), 'qga-'));
    const path = join(dir, 'qga.sock');
    const server = net.createServer();
    const agent = new FakeAgent(path, dir, server);
    server.on('connection', (socket) => agent.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    return agent;
  }

  /** Scripts the answer to every later command named `name`. */
  handle(name: string, handler: AgentHandler): void {
    this.handlers.set(name, handler);
  }

  /** Names of the commands received so far, in order. */
  get commands(): string[] {
    return this.received.map((c) => c.execute);
  }

  write(data: string | Buffer): void {
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    this.bytesWritten += Buffer.byteLength(data);
    socket.write(data);
  }

  /** The `n`th command (0-based) named `name`, received or still to come. */
  waitForCommand(name: string, n = 0): Promise<AgentCommand> {
    return this.until(() => this.received.filter((c) => c.execute === name)[n]);
  }

  waitForClose(count = this.closedConnections + 1): Promise<void> {
    return this.until(() => (this.closedConnections >= count ? true : undefined)).then(() => undefined);
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private accept(socket: net.Socket): void {
    this.socket = socket;
    const connection = ++this.connections;
    socket.on('data', (chunk: Buffer) => {
      let input = Buffer.concat([this.input, chunk]);
      let nl: number;
      while ((nl = input.indexOf(0x0a)) !== -1) {
        const line = input.subarray(0, nl);
        input = input.subarray(nl + 1);
        // 0xFF makes the agent drop what it had read of a command so far.
        this.onLine(line.subarray(line.lastIndexOf(0xff) + 1).toString('utf8'), connection);
      }
      this.input = Buffer.from(input.subarray(input.lastIndexOf(0xff) + 1));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.closedConnections++;
      this.changed();
    });
    this.onConnect?.(socket, this);
    this.changed();
  }

  private onLine(raw: string, connection: number): void {
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // Recorded with an empty name, so a test can see the client sent garbage.
    }
    const command: AgentCommand = {
      execute: typeof parsed.execute === 'string' ? parsed.execute : '',
      ...(parsed.arguments !== undefined ? { arguments: parsed.arguments as Record<string, unknown> } : {}),
      connection,
    };
    this.received.push(command);
    this.changed();
    // One command at a time, in order, as qemu-ga runs them.
    this.busy = this.busy.then(async () => {
      const handler = this.handlers.get(command.execute);
      const answer = handler
        ? await handler(command, this)
        : command.execute === 'guest-sync-delimited'
          ? syncAnswer(command)
          : { return: {} };
      if (!answer) return;
      this.write('raw' in answer ? answer.raw : JSON.stringify(answer) + '\n');
    });
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
