// The engine API over one WebSocket per client: requests carry an id, replies echo it (possibly out
// of order, since calls run concurrently), and engine events are pushed to every client.
import type { RawData, WebSocket } from 'ws';
import { toErrorData, type ErrorData } from '../../shared/errors';
import { CLOSE_CODES, type ApiDispatcher, type CallerKind } from './types';

export const API_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Events queue in memory for a client that does not read; past this it is dropped, not the server. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
const MAX_METHOD_LENGTH = 200;

export type RequestId = number | string;

export type ServerMessage =
  | { id: RequestId | null; ok: true; result: unknown }
  | { id: RequestId | null; ok: false; error: ErrorData }
  | { event: string; data: unknown };

type Parsed =
  | { ok: true; id: RequestId; method: string; params: unknown }
  | { ok: false; id: RequestId | null; message: string };

function isRequestId(v: unknown): v is RequestId {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 200);
}

export function parseRequest(text: string): Parsed {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { ok: false, id: null, message: 'Message is not valid JSON.' };
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return { ok: false, id: null, message: 'Message must be a JSON object {id, method, params}.' };
  }
  const m = msg as Record<string, unknown>;
  if (!isRequestId(m.id)) {
    return { ok: false, id: null, message: 'Message needs an id (a number or a string).' };
  }
  if (typeof m.method !== 'string' || m.method.length === 0 || m.method.length > MAX_METHOD_LENGTH) {
    return { ok: false, id: m.id, message: 'Message needs a method name (a string).' };
  }
  return { ok: true, id: m.id, method: m.method, params: m.params };
}

/**
 * Wires one accepted API WebSocket to the dispatcher until either side goes away. `caller` is what
 * the server knows of who opened it (server.ts): every call on this socket runs as that kind.
 */
export function attachApiSocket(
  ws: WebSocket,
  dispatcher: ApiDispatcher,
  caller: CallerKind,
  log: (msg: string) => void,
): void {
  let open = true;

  const send = (msg: ServerMessage): void => {
    if (!open || ws.readyState !== ws.OPEN) return;
    let text: string;
    try {
      text = JSON.stringify(msg);
    } catch (err) {
      // A result that cannot be serialized (cycle, BigInt) still owes the caller an answer.
      if ('id' in msg) {
        const error: ErrorData = { code: 'INTERNAL', message: `Reply could not be encoded: ${String(err)}` };
        text = JSON.stringify({ id: msg.id, ok: false, error });
      } else {
        log(`event ${msg.event} could not be encoded: ${String(err)}`);
        return;
      }
    }
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      open = false;
      ws.close(CLOSE_CODES.CLIENT_TOO_SLOW, 'Client reads too slowly');
      return;
    }
    ws.send(text);
  };

  const unsubscribe = dispatcher.subscribe((event, data) =>
    send({ event, data: data === undefined ? null : data }),
  );

  const handle = async (data: RawData, isBinary: boolean): Promise<void> => {
    if (isBinary) {
      send({ id: null, ok: false, error: { code: 'INVALID_INPUT', message: 'Send JSON as text frames.' } });
      return;
    }
    const parsed = parseRequest(rawToString(data));
    if (!parsed.ok) {
      send({ id: parsed.id, ok: false, error: { code: 'INVALID_INPUT', message: parsed.message } });
      return;
    }
    try {
      const result = await dispatcher.call(parsed.method, parsed.params, caller);
      // undefined would vanish from the JSON and leave the client with no result key.
      send({ id: parsed.id, ok: true, result: result === undefined ? null : result });
    } catch (err) {
      send({ id: parsed.id, ok: false, error: toErrorData(err) });
    }
  };

  ws.on('message', (data, isBinary) => {
    handle(data, isBinary).catch((err: unknown) => log(`api message failed: ${String(err)}`));
  });
  ws.on('error', (err) => log(`api socket error: ${err.message}`));
  ws.on('close', () => {
    open = false;
    unsubscribe();
  });
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
