// The switch's side of each VM NIC: it connects to the socket QEMU listens on, and connects again
// whenever the connection ends (the VM stopped, restarted, or is not started yet), so neither a
// VM restart nor a switch restart leaves a NIC cut off.
import { connect, type Socket } from 'node:net';

const RETRY_MS = 250;

export class PortConnector {
  private sock: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  connected = false;

  constructor(
    readonly path: string,
    private readonly onConnect: (sock: Socket) => void,
  ) {
    this.attempt();
  }

  private attempt(): void {
    if (this.closed) return;
    const sock = connect(this.path);
    this.sock = sock;
    sock.once('connect', () => {
      this.connected = true;
      this.onConnect(sock);
    });
    // The segment logs and drops a broken port; here only the retry matters.
    sock.on('error', () => undefined);
    sock.once('close', () => {
      this.connected = false;
      if (this.sock === sock) this.sock = null;
      if (!this.closed) this.timer = setTimeout(() => this.attempt(), RETRY_MS);
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.sock?.destroy();
  }
}
