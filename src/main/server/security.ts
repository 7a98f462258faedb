// Pure checks for every request the host server answers. Any web page the user visits can reach
// 127.0.0.1, so each request must prove it comes from our own page (Host, Origin) and from someone
// who was given the per-run token (cookie or query).
//
// Why the app lives under a secret base path (`/s/<random>/`) and the cookie is scoped to it:
// cookies are not isolated by port (RFC 6265, section 8.5), so a cookie set with `Path=/` by
// 127.0.0.1:OURS is also sent to 127.0.0.1:ANY, including a server another local user runs, which
// would learn the token from any request the browser makes to it. With `Path=<base>` the browser
// attaches the cookie only to URLs under the base, and another server receives such a URL only if
// something asks the browser for http://127.0.0.1:OTHER<base>...: our page never does (its URLs
// are relative to its own location, and its CSP allows no other origin); a page of any other site
// is cross-site, so SameSite=Strict withholds the cookie; and a page served by the other local
// server, which is same-site (ports do not make sites), cannot know the base: it is random per run,
// on no process's command line, never sent as a Referer (no-referrer), and our page's location is
// unreadable from another origin (and Cross-Origin-Opener-Policy cuts the opener link). So the
// base path, not the port, keeps the cookie home. Outside the base the server answers 404 to
// everything, so a guess teaches nothing.
// Carrying the token in the WebSocket subprotocol instead was considered and not taken: page script
// would then have to hold the token (an HttpOnly cookie is out of its reach, which is the point),
// and the page and its assets would still need a cookie; one scoped cookie covers every request.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { isBasePath } from '../../shared/base-path';
import type { ConsoleKind } from './types';

export const TOKEN_COOKIE = 'hangar_token';
export const TOKEN_PARAM = 'token';
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,256}$/;
const VM_ID = /^[a-z0-9]{12}$/;

export function isValidTokenShape(token: string): boolean {
  return TOKEN_SHAPE.test(token);
}

/** Exact match only: a rebinding attacker's page reaches us with its own name in Host. */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const h = host.toLowerCase();
  return h === `127.0.0.1:${port}` || h === `localhost:${port}`;
}

/**
 * Browsers send Origin on every WebSocket handshake and on cross-origin or non-GET fetches, so a
 * foreign or opaque ("null") Origin is refused; an absent one only where the caller allows it.
 */
export function isAllowedOrigin(origin: string | undefined, port: number, required: boolean): boolean {
  if (origin === undefined) return !required;
  const o = origin.toLowerCase();
  return o === `http://127.0.0.1:${port}` || o === `http://localhost:${port}`;
}

/** Hashing first makes the comparison constant-time in the length too. */
export function tokensEqual(candidate: string | undefined | null, token: string): boolean {
  if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > 1024) return false;
  const a = createHash('sha256').update(candidate).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/**
 * Every `hangar_token` value in a Cookie header. Cookies are not isolated by port, so another local
 * server may have planted one with the same name; any matching value is enough, none wins by order.
 */
export function cookieTokens(cookieHeader: string | undefined): string[] {
  if (!cookieHeader) return [];
  const found: string[] = [];
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== TOKEN_COOKIE) continue;
    found.push(part.slice(eq + 1).trim());
  }
  return found;
}

/**
 * The path inside the app (`/...`) when rawPath lies under basePath, else null. The base is a
 * secret, so it is compared in constant time like the token; `/s/<secret>` without its trailing
 * slash is outside (the cookie's Path would not cover it either).
 */
export function pathInsideBase(rawPath: string, basePath: string): string | null {
  if (rawPath.length < basePath.length) return null;
  if (!tokensEqual(rawPath.slice(0, basePath.length), basePath)) return null;
  return `/${rawPath.slice(basePath.length)}`;
}

export function tokenCookie(token: string, basePath: string): string {
  if (!isBasePath(basePath)) throw new Error('The cookie path must be a base path /s/<secret>/.');
  // No Max-Age: the token dies with the run anyway, and a session cookie leaves nothing behind.
  // Path=<base>: see the top of this file for why this, and not Path=/, keeps it from other servers.
  return `${TOKEN_COOKIE}=${token}; Path=${basePath}; HttpOnly; SameSite=Strict`;
}

export interface RequestTarget {
  /** Still percent-encoded, so traversal checks see what the client really sent. */
  rawPath: string;
  query: URLSearchParams;
}

/** Splits an origin-form request target. Absolute-form (`http://...`) and `*` are refused. */
export function parseTarget(rawUrl: string | undefined): RequestTarget | null {
  if (!rawUrl || !rawUrl.startsWith('/')) return null;
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
  return { rawPath, query };
}

/** The target without the token parameter: where the first load redirects once the cookie is set. */
export function withoutToken(target: RequestTarget): string {
  const rest = new URLSearchParams(target.query);
  rest.delete(TOKEN_PARAM);
  const qs = rest.toString();
  return qs ? `${target.rawPath}?${qs}` : target.rawPath;
}

// Characters that may stand in a Location header, an HTML attribute and a refresh URL as they are.
const URL_SAFE = /[^A-Za-z0-9/._~!$&()*+,;=:@%?-]/gu;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\\]/u;

/**
 * The one check for where the server sends a browser (the 303 after the token exchange and the
 * forward page alike): a same-origin path under basePath, or basePath itself when `path` is
 * anything else. Refused: a path outside the base (so no `//host` or `scheme:`), backslashes and
 * control characters (plain or percent-encoded), dot segments (plain or percent-encoded, which a
 * browser would resolve out of the base), and bad percent-encoding. What passes has every character
 * outside a plain URL alphabet percent-encoded, so no quote, angle bracket or space survives.
 */
export function localPathUnder(basePath: string, path: string): string {
  if (!isBasePath(basePath)) throw new Error('Redirects go under a base path /s/<secret>/.');
  if (!path.startsWith(basePath)) return basePath;
  const q = path.indexOf('?');
  const pathPart = q < 0 ? path : path.slice(0, q);
  if (CONTROL.test(path)) return basePath;
  for (const segment of pathPart.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return basePath;
    }
    if (decoded === '.' || decoded === '..' || CONTROL.test(decoded) || decoded.includes('/'))
      return basePath;
  }
  return path.replace(URL_SAFE, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

export interface AuthInput {
  host: string | undefined;
  origin: string | undefined;
  cookie: string | undefined;
  queryToken: string | null;
}

export type AuthResult =
  { ok: true; via: 'cookie' | 'query' } | { ok: false; status: 401 | 403 | 421; reason: string };

/** Host, then Origin, then token: the cheapest refusals first, and no token check for foreign callers. */
export function authorize(
  input: AuthInput,
  port: number,
  token: string,
  opts: { requireOrigin: boolean },
): AuthResult {
  if (!isAllowedHost(input.host, port)) {
    return { ok: false, status: 421, reason: 'Host header is not this server (127.0.0.1 or localhost).' };
  }
  if (!isAllowedOrigin(input.origin, port, opts.requireOrigin)) {
    return { ok: false, status: 403, reason: 'Origin is not this server.' };
  }
  if (input.queryToken !== null && tokensEqual(input.queryToken, token)) return { ok: true, via: 'query' };
  if (cookieTokens(input.cookie).some((t) => tokensEqual(t, token))) return { ok: true, via: 'cookie' };
  return { ok: false, status: 401, reason: 'Missing or wrong token.' };
}

/**
 * Maps a raw URL path to a file under root, or null for anything that could leave it: dot-dot
 * segments (plain or percent-encoded), backslashes, NUL, bad encoding. The prefix check at the end
 * holds even if a pattern above is missed.
 */
export function resolveStaticPath(root: string, rawPath: string): string | null {
  if (!isAbsolute(root) || !rawPath.startsWith('/')) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const relPath = decoded === '/' ? 'index.html' : decoded.slice(1);
  const base = resolve(root);
  const full = resolve(base, relPath);
  if (!isInside(base, full)) return null;
  return full;
}

export function isInside(base: string, candidate: string): boolean {
  const rel = relative(base, candidate);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

export interface ConsoleRoute {
  kind: ConsoleKind;
  vmId: string;
}

/** `/console/vnc/<id>` or `/console/serial/<id>` with a well-formed VM id; anything else is null. */
export function matchConsoleRoute(rawPath: string): ConsoleRoute | null {
  const m = /^\/console\/(vnc|serial)\/([^/]+)$/.exec(rawPath);
  if (!m) return null;
  const kind = m[1] as ConsoleKind;
  const vmId = m[2] ?? '';
  return VM_ID.test(vmId) ? { kind, vmId } : null;
}
