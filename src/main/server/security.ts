// Pure checks for every request the host server answers. Any web page the user visits can reach
// 127.0.0.1, so each request must prove it comes from our own page (Host, Origin) and from someone
// who was given the per-run token (cookie or query).
import { createHash, timingSafeEqual } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
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

export function tokenCookie(token: string): string {
  // No Max-Age: the token dies with the run anyway, and a session cookie leaves nothing behind.
  return `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`;
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
