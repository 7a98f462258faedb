// One lab segment: one port per VM NIC (a UNIX stream socket with QEMU's framing, connected by
// the switch to the socket QEMU listens on, or accepted on a socket of its own), frames forwarded
// by MAC learning. The switch's own services (DHCP, DNS,
// capture) see every frame through `tap` and answer through `inject`, as a port of their own.
// A port that does not read (a paused or hung VM) loses frames past a bound, as a real switch
// would, instead of growing the switch's memory.
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { encodeFrame, FrameError, FrameReader } from './frames';
import { MacTable, type PortId } from './learning';

/** Bytes queued to one port before frames for it are dropped. */
export const PORT_QUEUE_BYTES = 1024 * 1024;
/** The switch's own port (services): never a connection. */
export const SWITCH_PORT: PortId = 0;

export interface SegmentOptions {
  /** Every frame that enters the segment, from a VM or from the switch itself. */
  tap?: (frame: Buffer, from: PortId) => void;
  log?: (msg: string) => void;
}

export class Segment {
  private readonly table = new MacTable();
  private readonly ports = new Map<PortId, Socket>();
  private nextPort = 1;
  private server: Server | null = null;
  dropped = 0;

  constructor(
    readonly socketPath: string | null,
    private readonly options: SegmentOptions = {},
  ) {}

  /** Accepts NICs on `socketPath` (QEMU as the client); the lab switch connects to QEMU instead. */
  async listen(): Promise<void> {
    if (!this.socketPath) throw new Error('this segment has no socket of its own');
    rmSync(this.socketPath, { force: true });
    const server = createServer((sock) => this.attach(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    // The folder is 0700 already; the socket itself says the same.
    chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  get portCount(): number {
    return this.ports.size;
  }

  /** A frame from the switch's own services (a DHCP or DNS answer). */
  inject(frame: Buffer): void {
    this.forward(frame, SWITCH_PORT);
  }

  async close(): Promise<void> {
    for (const s of this.ports.values()) s.destroy();
    this.ports.clear();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
    if (this.socketPath) rmSync(this.socketPath, { force: true });
  }

  /** Adds a connected NIC as a port; it leaves the segment when the socket closes. */
  attach(sock: Socket): void {
    const port = this.nextPort++;
    const reader = new FrameReader();
    this.ports.set(port, sock);
    sock.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = reader.push(chunk);
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        this.options.log?.(`port ${port}: ${err.message}; disconnected`);
        sock.destroy();
        return;
      }
      for (const f of frames) this.forward(f, port);
    });
    const gone = () => {
      if (this.ports.get(port) !== sock) return;
      this.ports.delete(port);
      this.table.forgetPort(port);
    };
    sock.on('close', gone);
    sock.on('error', (err) => this.options.log?.(`port ${port}: ${err.message}`));
  }

  private forward(frame: Buffer, from: PortId): void {
    this.options.tap?.(frame, from);
    const targets = this.table.route(frame, from, this.ports.keys());
    if (targets.length === 0) return;
    const wire = encodeFrame(frame);
    for (const t of targets) {
      const sock = this.ports.get(t);
      if (!sock || sock.destroyed) continue;
      if (sock.writableLength > PORT_QUEUE_BYTES) {
        this.dropped++;
        continue;
      }
      sock.write(wire);
    }
  }
}
