// Bridges one WebSocket to one VM console UNIX socket (VNC's RFB or the serial chardev), bytes both
// ways. QEMU's own websocket is not used because it does not check Origin; this one sits behind the
// same Host/Origin/token checks as the API.
import { connect, type Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import { CLOSE_CODES, type ApiDispatcher, type ConsoleKind } from './types';

export const CONSOLE_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Above this much unsent WebSocket data the VM socket is paused, so a slow client bounds memory. */
export /** A frame is sent at once when this much is waiting, so large output is not held back. */
const COALESCE_BYTES = 64 * 1024;
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
const LOW_WATER_BYTES = 1024 * 1024;
const DRAIN_POLL_MS = 10;

/** Client subprotocols the bridge agrees to: noVNC may ask for `binary` or for none. */
export function selectConsoleProtocol(offered: Set<string>): string | false {
  return offered.has('binary') ? 'binary' : false;
}

export function attachConsoleBridge(
  ws: WebSocket,
  dispatcher: ApiDispatcher,
  vmId: string,
  kind: ConsoleKind,
  log: (msg: string) => void,
): void {
  ws.on('error', (err) => log(`console ${kind}/${vmId} websocket error: ${err.message}`));

  let path: string | null;
  try {
    path = dispatcher.consoleSocket(vmId, kind);
  } catch (err) {
    log(`consoleSocket(${vmId}, ${kind}) threw: ${String(err)}`);
    path = null;
  }
  if (path === null) {
    ws.close(CLOSE_CODES.CONSOLE_NOT_FOUND, `No ${kind} console: VM ${vmId} is unknown or not running`);
    return;
  }

  const sock: Socket = connect(path);
  let connected = false;
  let finished = false;
  let inputPaused = false;
  let drainTimer: NodeJS.Timeout | null = null;

  const finish = (code: number, reason: string): void => {
    if (finished) return;
    finished = true;
    if (drainTimer) clearTimeout(drainTimer);
    sock.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
  };

  // Polling, because ws exposes no drain event of its own; it only runs while the client lags.
  const waitForDrain = (): void => {
    drainTimer = setTimeout(() => {
      drainTimer = null;
      if (finished) return;
      if (ws.bufferedAmount <= LOW_WATER_BYTES) sock.resume();
      else waitForDrain();
    }, DRAIN_POLL_MS);
  };

  sock.on('connect', () => {
    connected = true;
  });
  // QEMU's serial chardev hands over a few bytes per read; one WebSocket frame per read costs
  // more CPU than the bytes are worth. Reads that arrive together go out as one frame.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (!pendingBytes) return;
    const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    if (ws.readyState !== ws.OPEN) return;
    ws.send(data, { binary: true });
    if (ws.bufferedAmount > HIGH_WATER_BYTES && drainTimer === null) {
      sock.pause();
      waitForDrain();
    }
  };
  sock.on('data', (chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    if (!pendingBytes) setImmediate(flush);
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= COALESCE_BYTES) flush();
  });
  // Node queues writes made while connecting, so client input sent early is not lost.
  ws.on('message', (data: RawData) => {
    if (finished) return;
    // Text frames (xterm.js sends strings) arrive as their UTF-8 bytes, which is what the guest wants.
    const ok = sock.write(toBuffer(data));
    // Frames already parsed can still arrive after pause(), so only the first full write arms it.
    if (!ok && !inputPaused) {
      inputPaused = true;
      ws.pause();
      sock.once('drain', () => {
        inputPaused = false;
        ws.resume();
      });
    }
  });
  sock.on('error', (err: NodeJS.ErrnoException) => {
    if (!connected) {
      log(`console ${kind}/${vmId}: cannot connect to ${path}: ${err.code ?? err.message}`);
      finish(CLOSE_CODES.CONSOLE_UNREACHABLE, `The ${kind} console of VM ${vmId} is not reachable`);
    } else {
      log(`console ${kind}/${vmId} socket error: ${err.message}`);
      finish(1011, 'Console socket error');
    }
  });
  sock.on('close', () => {
    flush(); // the last bytes before QEMU closed, e.g. a shutdown message
    finish(1000, 'Console closed');
  });
  ws.on('close', () => finish(1000, 'Client closed'));
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
