// How the renderer reaches the engine. In Electron the preload exposes `window.hangar`; in a
// browser (the host server) it is a WebSocket to `api` beside the page, authenticated by the
// cookie the server set. Both carry the same messages: the renderer cannot tell them apart.
import type { ErrorData } from '../../../shared/errors';
import type { PreloadApi } from '../../../shared/preload-api';
import { socketBase } from './urls';

export interface Transport {
  call(method: string, params: unknown): Promise<unknown>;
  onEvent(listener: (event: string, data: unknown) => void): () => void;
  /** Where a VM's console WebSocket lives. */
  consoleUrl(kind: 'vnc' | 'serial', id: string): string;
  onConnection(listener: (connected: boolean) => void): () => void;
}

declare global {
  interface Window {
    hangar?: PreloadApi;
  }
}

export class RemoteError extends Error {
  constructor(readonly data: ErrorData) {
    super(data.message);
    this.name = 'RemoteError';
  }
  get code() {
    return this.data.code;
  }
}

function electronTransport(api: PreloadApi): Transport {
  return {
    async call(method, params) {
      const r = await api.call(method, params);
      if (!r.ok) throw new RemoteError(r.error);
      return r.result;
    },
    onEvent: (l) => api.onEvent(l),
    consoleUrl: (kind, id) => api.consoleUrl(kind, id),
    onConnection: (l) => {
      l(true);
      return () => undefined;
    },
  };
}

/** A WebSocket that reconnects, so an engine restart does not leave a dead window. */
function browserTransport(): Transport {
  const base = socketBase(location);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(event: string, data: unknown) => void>();
  const connListeners = new Set<(c: boolean) => void>();
  let ws: WebSocket | null = null;
  let open: Promise<WebSocket> | null = null;
  let next = 1;

  const connect = (): Promise<WebSocket> => {
    open ??= new Promise((resolve) => {
      const sock = new WebSocket(`${base}api`);
      sock.onopen = () => {
        ws = sock;
        connListeners.forEach((l) => l(true));
        resolve(sock);
      };
      sock.onmessage = (m) => {
        const msg = JSON.parse(String(m.data)) as {
          id?: number;
          ok?: boolean;
          result?: unknown;
          error?: ErrorData;
          event?: string;
          data?: unknown;
        };
        if (msg.event) listeners.forEach((l) => l(msg.event!, msg.data));
        else if (typeof msg.id === 'number') {
          const p = pending.get(msg.id);
          pending.delete(msg.id);
          if (msg.ok) p?.resolve(msg.result);
          else p?.reject(new RemoteError(msg.error ?? { code: 'INTERNAL', message: 'No error was given.' }));
        }
      };
      sock.onclose = () => {
        ws = null;
        open = null;
        connListeners.forEach((l) => l(false));
        for (const p of pending.values())
          p.reject(
            new RemoteError({
              code: 'IO_ERROR',
              message: 'Lost the connection to the Hangar engine; reconnecting.',
            }),
          );
        pending.clear();
        setTimeout(() => void connect(), 1000);
      };
    });
    return open;
  };
  void connect();

  return {
    async call(method, params) {
      const sock = ws ?? (await connect());
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        sock.send(JSON.stringify({ id, method, params }));
      });
    },
    onEvent(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    consoleUrl: (kind, id) => `${base}console/${kind}/${id}`,
    onConnection(l) {
      connListeners.add(l);
      l(ws !== null);
      return () => connListeners.delete(l);
    },
  };
}

export const transport: Transport = window.hangar ? electronTransport(window.hangar) : browserTransport();
