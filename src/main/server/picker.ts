// The browser UI's file picker. The renderer is untrusted and may not name host files
// (api/callers.ts), so the user chooses them here, on a page the renderer cannot script:
//   - Its own origin: a second loopback listener on its own random port. The app page's
//     Cross-Origin-Opener-Policy (same-origin) and the popup's own sever the two windows, so the
//     app holds no handle on the picker (no DOM, no navigation, no postMessage), and the picker's
//     answer does not travel through the page at all: the server hands the grant to whoever waits
//     on `picker.wait` over the app's authenticated API socket.
//   - Its own credentials, never the app's cookie: `picker.open` returns a URL with a one-time
//     ticket. The first top-level navigation to it (Sec-Fetch-Dest: document; a fetch or a frame
//     is refused without using it up) trades it for a session secret, which lives only in the
//     picker's own URLs. The renderer knows the ticket but never sees the secret (the redirect
//     happens in the popup), so it cannot forge a choice: a choice is a POST with the secret, our
//     Origin and Sec-Fetch-Site: same-origin. Cookies would not do: they ignore ports, so one set
//     here would also reach the app's server and every other server on 127.0.0.1.
//   - Host and Origin checks like the app's (DNS rebinding, cross-site forms); no framing, no
//     referrer, no caching.
// What it offers: folders and the files the host-path policy accepts (real paths; Hangar's own
// data is never listed or entered, whatever symlink points there), filtered by purpose with
// "all files" a click away. "Use this file" runs the policy again and grants the file
// (engine/policy/grants.ts); a disk built on other files needs that chain confirmed here.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ApiParams } from '../../shared/api';
import { HangarError, toErrorData } from '../../shared/errors';
import type { PickedFile, PickPurpose } from '../../shared/requests';
import type { FileGrants } from '../api/callers';
import { listDir, locate } from './picker-files';
import {
  folderHref,
  PICKER_CSS,
  PICKER_JS,
  renderChain,
  renderDone,
  renderListing,
  renderMessage,
  type ViewOptions,
} from './picker-page';
import { parseTarget } from './security';
import type { ApiDispatcher, ConsoleKind } from './types';

const LISTEN_HOST = '127.0.0.1';
/** A picker left open this long after its last request gives up (its waiters get null). */
export const PICKER_TTL_MS = 15 * 60 * 1000;
/** Open pickers at once; opening one more gives up the oldest. */
export const MAX_PICKERS = 8;
const MAX_BODY_BYTES = 64 * 1024;
/** Callers waiting on one picker at once (a page that reconnects waits again). */
const MAX_WAITERS = 4;

const CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "script-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  // Not no-referrer: under it browsers send `Origin: null` with the picker's own form posts, and
  // the Origin check is what tells those from a forged post. The picker links nowhere else.
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

interface Session {
  id: string;
  /** In the URL handed to the API caller; null once used. */
  ticket: string | null;
  /** In the picker's own URLs only; set when the ticket is used. */
  secret: string | null;
  purpose: PickPurpose;
  expiresAt: number;
  /** undefined while open; a file, or null when cancelled, given up or expired. */
  result: PickedFile | null | undefined;
  waiters: ((r: PickedFile | null) => void)[];
}

export interface Picker {
  /** The picker's origin, `http://127.0.0.1:PORT`: never the app's. */
  origin: string;
  open(purpose: PickPurpose): { id: string; url: string };
  wait(id: string): Promise<PickedFile | null>;
  close(): Promise<void>;
}

export interface PickerOptions {
  log?: (message: string) => void;
  ttlMs?: number;
  now?: () => number;
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'text/html; charset=utf-8',
  extra: Record<string, string> = {},
): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    ...HEADERS,
    'Content-Type': type,
    'Content-Length': String(bytes.length),
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

function readForm(req: IncomingMessage): Promise<URLSearchParams | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

export async function startPicker(files: FileGrants, options: PickerOptions = {}): Promise<Picker> {
  const log = options.log ?? (() => {});
  const ttlMs = options.ttlMs ?? PICKER_TTL_MS;
  const now = options.now ?? Date.now;
  const byId = new Map<string, Session>();
  const byTicket = new Map<string, Session>();
  const bySecret = new Map<string, Session>();
  let origin = '';
  let host = '';

  const finish = (s: Session, result: PickedFile | null): void => {
    if (s.result !== undefined) return;
    s.result = result;
    for (const w of s.waiters.splice(0)) w(result);
    if (s.ticket) byTicket.delete(s.ticket);
    s.ticket = null;
  };
  const forget = (s: Session): void => {
    finish(s, null);
    byId.delete(s.id);
    if (s.secret) bySecret.delete(s.secret);
  };
  const sweep = (): void => {
    const t = now();
    for (const s of [...byId.values()]) if (s.expiresAt <= t) forget(s);
  };
  const timer = setInterval(sweep, 30_000);
  timer.unref();

  const startDir = (): string => {
    const home = files.home();
    for (const dir of [join(home, 'Downloads'), home]) {
      const found = locate(dir, (r) => files.isProtected(r));
      if (found.ok && found.select === null) return found.dir;
    }
    return '/';
  };

  const viewOf = (q: URLSearchParams): ViewOptions => ({
    allFiles: q.get('all') === '1',
    showHidden: q.get('hidden') === '1',
  });

  const listingPage = (
    s: Session,
    dirText: string,
    view: ViewOptions,
    error: string | null,
    select?: string,
  ) => {
    const found = locate(dirText, (r) => files.isProtected(r));
    const where = found.ok ? found : locate(startDir(), (r) => files.isProtected(r));
    const problem = found.ok ? error : found.message;
    if (!where.ok)
      return renderListing({
        purpose: s.purpose,
        listing: null,
        location: dirText,
        select: null,
        error: problem,
        view,
      });
    let listing;
    try {
      listing = listDir(where.dir, { purpose: s.purpose, ...view, isProtected: (r) => files.isProtected(r) });
    } catch (err) {
      return renderListing({
        purpose: s.purpose,
        listing: null,
        location: dirText,
        select: null,
        error: `${where.dir} cannot be read: ${(err as Error).message}`,
        view,
      });
    }
    return renderListing({
      purpose: s.purpose,
      listing,
      location: found.ok ? where.dir : dirText,
      select: select ?? where.select,
      error: problem,
      view,
    });
  };

  const choose = async (s: Session, form: URLSearchParams, res: ServerResponse): Promise<void> => {
    const path = form.get('path') ?? '';
    const view = viewOf(form);
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    if (!path.startsWith('/')) {
      send(res, 200, listingPage(s, form.get('dir') ?? startDir(), view, 'Choose a file first.'));
      return;
    }
    const trusted = form.get('trust') === '1';
    try {
      const outcome = await files.grant(path, s.purpose, trusted ? form.getAll('chain') : undefined);
      // Another post of this picker (a double click) may have finished it meanwhile: one answer only.
      if (s.result !== undefined) {
        send(res, 410, renderMessage('Picker closed', 'This picker is finished already.'));
        return;
      }
      if (!outcome.ok) {
        send(res, 200, renderChain(s.purpose, path, outcome.chain, folderHref(dir, view)));
        return;
      }
      finish(s, outcome.file);
      send(res, 200, renderDone(outcome.file));
    } catch (err) {
      send(res, 200, listingPage(s, dir, view, toErrorData(err).message));
    }
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = parseTarget(req.url);
    if (target === null) return send(res, 400, 'Bad request target.\n', 'text/plain; charset=utf-8');
    // Exact Host: a rebinding attacker's page reaches us with its own name in it.
    if (req.headers.host?.toLowerCase() !== host)
      return send(res, 421, 'Host header is not this server.\n', 'text/plain; charset=utf-8');
    const reqOrigin = req.headers.origin;
    if (reqOrigin !== undefined && reqOrigin.toLowerCase() !== origin)
      return send(res, 403, 'Origin is not this picker.\n', 'text/plain; charset=utf-8');
    const method = req.method ?? 'GET';
    const dest = req.headers['sec-fetch-dest'];
    const path = target.rawPath;

    if (method === 'GET' && path === '/assets/picker.css')
      return send(res, 200, PICKER_CSS, 'text/css; charset=utf-8');
    if (method === 'GET' && path === '/assets/picker.js')
      return send(res, 200, PICKER_JS, 'text/javascript; charset=utf-8');

    sweep();
    // Every page is a top-level document: a frame, a fetch or an image of it is refused.
    if (dest !== undefined && dest !== 'document')
      return send(res, 403, 'The picker opens as a window only.\n', 'text/plain; charset=utf-8');

    const ticket = /^\/t\/([A-Za-z0-9_-]{43})$/.exec(path)?.[1];
    if (ticket !== undefined && (method === 'GET' || method === 'HEAD')) {
      const s = byTicket.get(ticket);
      if (!s || s.result !== undefined)
        return send(
          res,
          404,
          renderMessage(
            'Picker link used',
            'This picker link was used already or has expired. Choose the file again from Hangar.',
          ),
        );
      if (method === 'HEAD') return send(res, 200, '');
      byTicket.delete(ticket);
      s.ticket = null;
      s.secret = randomBytes(32).toString('base64url');
      bySecret.set(s.secret, s);
      s.expiresAt = now() + ttlMs;
      const location = `/p/${s.secret}/${folderHref(startDir(), { allFiles: false, showHidden: false }).slice(2)}`;
      res.writeHead(303, { ...HEADERS, Location: location, 'Content-Length': '0' });
      res.end();
      return;
    }

    const m = /^\/p\/([A-Za-z0-9_-]{43})\/(choose|cancel)?$/.exec(path);
    const s = m ? bySecret.get(m[1]!) : undefined;
    if (!m || !s) return send(res, 404, 'Not found.\n', 'text/plain; charset=utf-8');
    if (s.result !== undefined)
      return send(
        res,
        410,
        renderMessage('Picker closed', 'This picker is finished. Choose the file again from Hangar.'),
      );
    s.expiresAt = now() + ttlMs;
    const action = m[2];

    if (action === undefined && (method === 'GET' || method === 'HEAD')) {
      const q = target.query;
      send(res, 200, listingPage(s, q.get('dir') ?? startDir(), viewOf(q), null, q.get('sel') ?? undefined));
      return;
    }
    if (action !== undefined && method === 'POST') {
      // A choice comes from this picker's own page: our Origin (browsers send it on every POST) and,
      // where the browser says, a same-origin request. The secret in the path does the rest.
      const site = req.headers['sec-fetch-site'];
      if (reqOrigin === undefined || (site !== undefined && site !== 'same-origin'))
        return send(
          res,
          403,
          'Forms are accepted from the picker itself only.\n',
          'text/plain; charset=utf-8',
        );
      const form = await readForm(req);
      if (form === null) return send(res, 413, 'Too large.\n', 'text/plain; charset=utf-8');
      if (action === 'cancel') {
        finish(s, null);
        send(res, 200, renderMessage('Cancelled', 'No file was chosen. You can close this window.'));
        return;
      }
      await choose(s, form, res);
      return;
    }
    send(res, 405, 'Method not allowed.\n', 'text/plain; charset=utf-8', { Allow: 'GET, POST' });
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log(`picker request failed: ${String(err)}`);
      if (!res.headersSent) send(res, 500, 'Internal error.\n', 'text/plain; charset=utf-8');
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LISTEN_HOST, port: 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log(`picker server error: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  host = `${LISTEN_HOST}:${port}`;
  origin = `http://${host}`;

  return {
    origin,
    open(purpose) {
      sweep();
      const open = [...byId.values()];
      while (open.length >= MAX_PICKERS) forget(open.shift()!);
      const s: Session = {
        id: randomBytes(16).toString('base64url'),
        ticket: randomBytes(32).toString('base64url'),
        secret: null,
        purpose,
        expiresAt: now() + ttlMs,
        result: undefined,
        waiters: [],
      };
      byId.set(s.id, s);
      byTicket.set(s.ticket!, s);
      return { id: s.id, url: `${origin}/t/${s.ticket}` };
    },
    wait(id) {
      sweep();
      const s = byId.get(id);
      if (!s)
        return Promise.reject(
          new HangarError('NOT_FOUND', 'That picker has closed or expired: choose the file again.'),
        );
      if (s.result !== undefined) return Promise.resolve(s.result);
      if (s.waiters.length >= MAX_WAITERS)
        return Promise.reject(
          new HangarError('BUSY', 'That picker has enough callers waiting on it already.'),
        );
      return new Promise((resolve) => s.waiters.push(resolve));
    },
    close() {
      clearInterval(timer);
      for (const s of [...byId.values()]) forget(s);
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The API as the host server serves it: picker.* answered by the picker, the rest by the engine. */
export function withPicker(dispatcher: ApiDispatcher, picker: Picker): ApiDispatcher {
  const parse = <T>(
    schema: {
      safeParse(
        v: unknown,
      ): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } };
    },
    params: unknown,
  ): T => {
    const parsed = schema.safeParse(params ?? {});
    if (!parsed.success)
      throw new HangarError('INVALID_INPUT', parsed.error.issues[0]?.message ?? 'Invalid parameters.');
    return parsed.data;
  };
  return {
    async call(method, params, caller) {
      if (method === 'picker.open') return picker.open(parse(ApiParams['picker.open'], params).purpose);
      if (method === 'picker.wait') return picker.wait(parse(ApiParams['picker.wait'], params).id);
      return dispatcher.call(method, params, caller);
    },
    subscribe: (listener) => dispatcher.subscribe(listener),
    consoleSocket: (vmId, kind) => dispatcher.consoleSocket(vmId, kind),
    ...(dispatcher.remoteConsole
      ? { remoteConsole: (id: string, kind: ConsoleKind) => dispatcher.remoteConsole!(id, kind) }
      : {}),
  };
}
