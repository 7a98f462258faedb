// Bridges one WebSocket to one VM console UNIX socket (VNC's RFB or the serial chardev), bytes both
// ways. QEMU's own websocket is not used because it does not check Origin; this one sits behind the
// same Host/Origin/token checks as the API.
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { CLOSE_CODES, type ApiDispatcher, type ConsoleKind } from './types';

export const CONSOLE_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** A frame is sent at once when this much is waiting, so large output is not held back. */
const COALESCE_BYTES = 64 * 1024;
/** Above this much unsent WebSocket data the VM socket is paused, so a slow client bounds memory. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;
const LOW_WATER_BYTES = 1024 * 1024;
const DRAIN_POLL_MS = 10;

/** Client subprotocols the bridge agrees to: noVNC may ask for `binary` or for none. */
export function selectConsoleProtocol(offered: Set<string>): string | false {
  return offered.has('binary') ? 'binary' : false;
}

/** A socket, or a stream that behaves like one while it sets up (a libvirt host's console). */
export type ConsoleSocket = Duplex & { connecting: boolean };

/** A console's UNIX socket, connecting while the WebSocket handshake is still under way. */
export interface ConsoleTarget {
  /** What the console is, for messages: the socket's path, or the libvirt domain's console id. */
  path: string | null;
  sock: ConsoleSocket | null;
  /** An error the socket had before the bridge was attached (the event fires only once). */
  earlyError: NodeJS.ErrnoException | null;
  /** Stops keeping errors aside: the bridge handles them from now on. */
  detachEarly(): void;
  /** For a handshake that never completes: the socket is closed. */
  abandon(): void;
}

/**
 * Starts connecting to the VM's console before the WebSocket exists, so QEMU's greeting is
 * already waiting when the client's handshake completes (a VNC connect was otherwise two
 * handshakes in a row). Paused: nothing is read until the bridge is attached.
 */
export function openConsole(
  dispatcher: ApiDispatcher,
  vmId: string,
  kind: ConsoleKind,
  log: (msg: string) => void,
): ConsoleTarget {
  let path: string | null;
  try {
    path = dispatcher.consoleSocket(vmId, kind);
  } catch (err) {
    log(`consoleSocket(${vmId}, ${kind}) threw: ${String(err)}`);
    path = null;
  }
  const none = () => undefined;
  let sock: ConsoleSocket | null = null;
  if (path === null && dispatcher.remoteConsole) {
    try {
      sock = dispatcher.remoteConsole(vmId, kind);
      if (sock) path = `libvirt console ${vmId}`;
    } catch (err) {
      log(`remoteConsole(${vmId}, ${kind}) threw: ${String(err)}`);
    }
  }
  if (path === null) return { path, sock: null, earlyError: null, detachEarly: none, abandon: none };
  sock ??= connect(path);
  sock.pause();
  const target: ConsoleTarget = {
    path,
    sock,
    earlyError: null,
    detachEarly: () => sock.off('error', keep),
    abandon: () => sock.destroy(),
  };
  const keep = (err: NodeJS.ErrnoException) => {
    target.earlyError = err;
  };
  sock.on('error', keep);
  return target;
}

export function attachConsoleBridge(
  ws: WebSocket,
  target: ConsoleTarget,
  vmId: string,
  kind: ConsoleKind,
  log: (msg: string) => void,
): void {
  ws.on('error', (err) => log(`console ${kind}/${vmId} websocket error: ${err.message}`));
  const { path } = target;
  if (path === null || target.sock === null) {
    ws.close(CLOSE_CODES.CONSOLE_NOT_FOUND, `No ${kind} console: VM ${vmId} is unknown or not running`);
    return;
  }

  const sock = target.sock;
  let connected = !sock.connecting && !sock.destroyed;
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
  // VNC hands over large reads already: sent at once, since a handshake waits on each reply.
  const coalesce = kind === 'serial';
  sock.on('data', (chunk: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    if (!coalesce) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      flush();
      return;
    }
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
  const onError = (err: NodeJS.ErrnoException) => {
    if (!connected) {
      log(`console ${kind}/${vmId}: cannot connect to ${path}: ${err.message}`);
      finish(CLOSE_CODES.CONSOLE_UNREACHABLE, `The ${kind} console of VM ${vmId} is not reachable`);
    } else {
      log(`console ${kind}/${vmId} socket error: ${err.message}`);
      finish(1011, 'Console socket error');
    }
  };
  target.detachEarly();
  sock.on('error', onError);
  const earlyError = target.earlyError;
  sock.on('close', () => {
    flush(); // the last bytes before QEMU closed, e.g. a shutdown message
    finish(1000, 'Console closed');
  });
  ws.on('close', () => finish(1000, 'Client closed'));
  if (earlyError) onError(earlyError);
  else if (sock.destroyed) finish(1000, 'Console closed');
  else sock.resume();
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
