// A client of a running engine's API over its loopback WebSocket (the CLI's thin mode).
import WebSocket from 'ws';
import { HangarError, type ErrorData } from '../../shared/errors';
import type { EndpointRecord } from './endpoint';

export interface ApiClient {
  call(method: string, params?: unknown): Promise<unknown>;
  onEvent(listener: (event: string, data: unknown) => void): void;
  close(): Promise<void>;
}

export function connectWs(ep: EndpointRecord): Promise<ApiClient> {
  const origin = `http://127.0.0.1:${ep.port}`;
  const ws = new WebSocket(`ws://127.0.0.1:${ep.port}/api?token=${encodeURIComponent(ep.token)}`, {
    headers: { Origin: origin },
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners: ((event: string, data: unknown) => void)[] = [];
  let next = 1;
  ws.on('message', (raw) => {
    const msg = JSON.parse(raw.toString()) as {
      id?: number;
      ok?: boolean;
      result?: unknown;
      error?: ErrorData;
      event?: string;
      data?: unknown;
    };
    if (msg.event) for (const l of listeners) l(msg.event, msg.data);
    else if (typeof msg.id === 'number') {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.ok) p?.resolve(msg.result);
      else p?.reject(HangarError.fromData(msg.error ?? { code: 'INTERNAL', message: 'no error given' }));
    }
  });
  ws.on('close', () => {
    for (const p of pending.values())
      p.reject(new HangarError('IO_ERROR', 'The Hangar engine closed the connection.'));
    pending.clear();
  });
  return new Promise((resolve, reject) => {
    ws.once('error', (err) =>
      reject(new HangarError('IO_ERROR', `Cannot reach the running Hangar engine: ${err.message}`)),
    );
    ws.once('open', () =>
      resolve({
        call(method, params) {
          const id = next++;
          ws.send(JSON.stringify({ id, method, params: params ?? {} }));
          return new Promise((res, rej) => pending.set(id, { resolve: res, reject: rej }));
        },
        onEvent(listener) {
          listeners.push(listener);
        },
        close() {
          return new Promise((r) => {
            if (ws.readyState === WebSocket.CLOSED) return r();
            ws.once('close', () => r());
            ws.close();
          });
        },
      }),
    );
  });
}
