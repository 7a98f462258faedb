// Headers and small responses shared by plain HTTP answers and refused WebSocket upgrades, so that
// no answer (error pages included) goes out without the security headers.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

// connect-src 'self' covers same-origin ws: in CSP Level 3 browsers (Chromium since 2019), so the
// renderer needs no explicit ws://127.0.0.1:PORT entry, which would have to change every run.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  // Stops other sites' pages embedding our files as no-cors subresources.
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  421: 'Misdirected Request',
  426: 'Upgrade Required',
  500: 'Internal Server Error',
};

export const UNAUTHORIZED_TEXT =
  'Hangar: this server needs its access token. Open the URL printed by `npm start` ' +
  '(http://127.0.0.1:PORT/s/.../?token=...) once in this browser; it sets a cookie and takes you to the app.\n';

/** The answer to everything outside the app's base path: the same whoever asks, so it says nothing. */
export const NOT_FOUND_TEXT = 'Not found.\n';

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  extra: Record<string, string> = {},
): void {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(body.length),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * A 200 page that goes on to `path` by a meta refresh: no script, so the CSP holds. `path` must come
 * from localPathUnder() (security.ts), which leaves no quote, angle bracket or space in it.
 */
export function sendForwardPage(res: ServerResponse, path: string, extra: Record<string, string> = {}): void {
  const to = path.replaceAll('&', '&amp;');
  const body = Buffer.from(
    `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${to}">` +
      `<title>Hangar</title><p>Opening <a href="${to}">Hangar</a>...</p>\n`,
    'utf8',
  );
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(body.length),
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Refuses a WebSocket upgrade with a plain HTTP answer before any WebSocket exists. */
export function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  const body = Buffer.from(text.endsWith('\n') ? text : `${text}\n`, 'utf8');
  const head = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
    ...Object.entries(SECURITY_HEADERS).map(([k, v]) => `${k}: ${v}`),
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${body.length}`,
    'Cache-Control: no-store',
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  else socket.destroy();
}
