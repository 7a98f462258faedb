import { describe, expect, it } from 'vitest';
import {
  authorize,
  cookieTokens,
  isAllowedHost,
  isAllowedOrigin,
  isValidTokenShape,
  localPathUnder,
  matchConsoleRoute,
  parseTarget,
  pathInsideBase,
  resolveStaticPath,
  tokenCookie,
  tokensEqual,
  withoutToken,
} from './security';
import { parseRequest } from './api-socket';
import { selectConsoleProtocol } from './console-bridge';
import { isBasePath } from '../../shared/base-path';

const PORT = 40123;
const TOKEN = 'a'.repeat(64);
const ROOT = '/srv/hangar/renderer';
const BASE = '/s/Qm9vdGgtc2VjcmV0LWJhc2UtcGF0aDEy/';

describe('isAllowedHost', () => {
  it('accepts exactly 127.0.0.1:PORT and localhost:PORT', () => {
    expect(isAllowedHost(`127.0.0.1:${PORT}`, PORT)).toBe(true);
    expect(isAllowedHost(`localhost:${PORT}`, PORT)).toBe(true);
    expect(isAllowedHost(`LocalHost:${PORT}`, PORT)).toBe(true);
  });
  it.each([
    undefined,
    '',
    '127.0.0.1',
    'localhost',
    `127.0.0.1:${PORT + 1}`,
    `evil.example:${PORT}`,
    `127.0.0.1.evil.example:${PORT}`,
    `localhost.:${PORT}`,
    `[::1]:${PORT}`,
    `0.0.0.0:${PORT}`,
    `127.0.0.1:${PORT} `,
    `user@127.0.0.1:${PORT}`,
  ])('refuses %j', (host) => {
    expect(isAllowedHost(host, PORT)).toBe(false);
  });
});

describe('isAllowedOrigin', () => {
  it('accepts our own origins, with or without being required', () => {
    for (const required of [true, false]) {
      expect(isAllowedOrigin(`http://127.0.0.1:${PORT}`, PORT, required)).toBe(true);
      expect(isAllowedOrigin(`http://localhost:${PORT}`, PORT, required)).toBe(true);
    }
  });
  it('treats an absent Origin by the caller’s rule', () => {
    expect(isAllowedOrigin(undefined, PORT, false)).toBe(true);
    expect(isAllowedOrigin(undefined, PORT, true)).toBe(false);
  });
  it.each([
    'null',
    '',
    'http://evil.example',
    `http://evil.example:${PORT}`,
    `https://127.0.0.1:${PORT}`,
    `http://127.0.0.1:${PORT + 1}`,
    'http://127.0.0.1',
    `http://127.0.0.1:${PORT}/`,
    `http://127.0.0.1:${PORT}.evil.example`,
    `file://`,
  ])('refuses %j', (origin) => {
    expect(isAllowedOrigin(origin, PORT, false)).toBe(false);
  });
});

describe('tokens', () => {
  it('compares tokens exactly', () => {
    expect(tokensEqual(TOKEN, TOKEN)).toBe(true);
    expect(tokensEqual(`${TOKEN}a`, TOKEN)).toBe(false);
    expect(tokensEqual(TOKEN.slice(1), TOKEN)).toBe(false);
    expect(tokensEqual(TOKEN.toUpperCase(), TOKEN)).toBe(false);
    expect(tokensEqual('', TOKEN)).toBe(false);
    expect(tokensEqual(undefined, TOKEN)).toBe(false);
    expect(tokensEqual(null, TOKEN)).toBe(false);
    expect(tokensEqual('x'.repeat(5000), TOKEN)).toBe(false);
  });
  it('finds every hangar_token cookie and nothing else', () => {
    expect(cookieTokens(undefined)).toEqual([]);
    expect(cookieTokens('a=1; hangar_token=abc; b=2')).toEqual(['abc']);
    expect(cookieTokens('hangar_token=old; hangar_token=new')).toEqual(['old', 'new']);
    expect(cookieTokens('xhangar_token=abc; hangar_tokenx=def; garbage')).toEqual([]);
  });
  it('sets an HttpOnly SameSite=Strict session cookie for the base path only', () => {
    const c = tokenCookie(TOKEN, BASE);
    expect(c).toContain(`hangar_token=${TOKEN}`);
    expect(c).toContain('HttpOnly');
    expect(c).toContain('SameSite=Strict');
    // Cookies ignore ports: Path=/ would go to every server on 127.0.0.1.
    expect(c.split('; ')).toContain(`Path=${BASE}`);
    expect(c.split('; ')).not.toContain('Path=/');
    expect(c).not.toMatch(/Max-Age|Expires|Domain/i);
  });
  it('refuses to scope the cookie to anything but a base path', () => {
    for (const p of [
      '/',
      '',
      '/s/',
      '/s/short/',
      `${BASE.slice(0, -1)}`,
      `${BASE}x/`,
      `/s/${'a'.repeat(22)};/`,
    ])
      expect(() => tokenCookie(TOKEN, p), p).toThrow(/base path/);
  });
  it('only accepts token shapes safe in a cookie and a URL', () => {
    expect(isValidTokenShape(TOKEN)).toBe(true);
    expect(isValidTokenShape('short')).toBe(false);
    expect(isValidTokenShape(`${'a'.repeat(20)};x`)).toBe(false);
    expect(isValidTokenShape(`${'a'.repeat(20)} `)).toBe(false);
  });
});

describe('authorize', () => {
  const good = { host: `127.0.0.1:${PORT}`, origin: undefined, cookie: undefined, queryToken: null };
  const ws = { requireOrigin: true };
  const http = { requireOrigin: false };

  it('accepts the token from the query or from the cookie', () => {
    expect(authorize({ ...good, queryToken: TOKEN }, PORT, TOKEN, http)).toEqual({ ok: true, via: 'query' });
    expect(authorize({ ...good, cookie: `hangar_token=${TOKEN}` }, PORT, TOKEN, http)).toEqual({
      ok: true,
      via: 'cookie',
    });
  });
  it('refuses a missing or wrong token with 401', () => {
    expect(authorize(good, PORT, TOKEN, http)).toMatchObject({ ok: false, status: 401 });
    expect(authorize({ ...good, queryToken: 'b'.repeat(64) }, PORT, TOKEN, http)).toMatchObject({
      status: 401,
    });
    expect(authorize({ ...good, cookie: 'hangar_token=nope' }, PORT, TOKEN, http)).toMatchObject({
      status: 401,
    });
  });
  it('checks Host before the token (DNS rebinding)', () => {
    const r = authorize({ ...good, host: `evil.example:${PORT}`, queryToken: TOKEN }, PORT, TOKEN, http);
    expect(r).toMatchObject({ ok: false, status: 421 });
  });
  it('refuses a foreign Origin even with the right token', () => {
    const r = authorize({ ...good, origin: 'http://evil.example', queryToken: TOKEN }, PORT, TOKEN, http);
    expect(r).toMatchObject({ ok: false, status: 403 });
  });
  it('requires Origin where asked (WebSocket upgrades)', () => {
    expect(authorize({ ...good, queryToken: TOKEN }, PORT, TOKEN, ws)).toMatchObject({ status: 403 });
    const withOrigin = { ...good, origin: `http://127.0.0.1:${PORT}`, queryToken: TOKEN };
    expect(authorize(withOrigin, PORT, TOKEN, ws)).toEqual({ ok: true, via: 'query' });
  });
});

describe('request targets', () => {
  it('splits path and query and refuses non-origin forms', () => {
    const t = parseTarget('/a/b?token=x&y=1');
    expect(t?.rawPath).toBe('/a/b');
    expect(t?.query.get('token')).toBe('x');
    expect(parseTarget('http://evil.example/')).toBeNull();
    expect(parseTarget('*')).toBeNull();
    expect(parseTarget(undefined)).toBeNull();
  });
  it('drops only the token when redirecting', () => {
    expect(withoutToken(parseTarget('/?token=x')!)).toBe('/');
    expect(withoutToken(parseTarget('/vm?token=x&tab=serial')!)).toBe('/vm?tab=serial');
  });
});

describe('the base path', () => {
  it('has a shape safe in a URL and a cookie Path', () => {
    expect(isBasePath(BASE)).toBe(true);
    expect(isBasePath(`/s/${'a'.repeat(22)}/`)).toBe(true);
    for (const p of [
      '/',
      '/s/',
      `/s/${'a'.repeat(21)}/`,
      `/s/${'a'.repeat(129)}/`,
      `/s/${'a'.repeat(22)}`,
      `/x/${'a'.repeat(22)}/`,
      `/s/${'a'.repeat(22)}/x/`,
      `/s/${'a'.repeat(21)};/`,
      `/s/${'a'.repeat(21)} /`,
      `/s/${'a'.repeat(21)}%/`,
      42,
      null,
    ])
      expect(isBasePath(p), String(p)).toBe(false);
  });

  it('finds the path inside the base, and nothing outside it', () => {
    expect(pathInsideBase(BASE, BASE)).toBe('/');
    expect(pathInsideBase(`${BASE}index.html`, BASE)).toBe('/index.html');
    expect(pathInsideBase(`${BASE}assets/a.js`, BASE)).toBe('/assets/a.js');
    expect(pathInsideBase(`${BASE}api`, BASE)).toBe('/api');
    expect(pathInsideBase(`${BASE}console/vnc/abc123def456`, BASE)).toBe('/console/vnc/abc123def456');
    for (const p of [
      '/',
      '/api',
      '/index.html',
      '/console/vnc/abc123def456',
      '/s/',
      BASE.slice(0, -1),
      BASE.slice(0, -2) + 'X/',
      BASE.toLowerCase(),
      `/s/${'A'.repeat(32)}/`,
      `//${BASE}`,
      `/x${BASE}`,
    ])
      expect(pathInsideBase(p, BASE), p).toBeNull();
  });
});

describe('localPathUnder (where the token exchange sends the browser: 303 and forward page alike)', () => {
  it('keeps a plain path and query under the base', () => {
    expect(localPathUnder(BASE, BASE)).toBe(BASE);
    expect(localPathUnder(BASE, `${BASE}?tab=serial&x=1`)).toBe(`${BASE}?tab=serial&x=1`);
    expect(localPathUnder(BASE, `${BASE}assets/a%20b.css`)).toBe(`${BASE}assets/a%20b.css`);
    expect(localPathUnder(BASE, `${BASE}index.html?a=%2F..%2F`)).toBe(`${BASE}index.html?a=%2F..%2F`);
  });

  it('sends anything outside the base, or able to leave it, to the base itself', () => {
    for (const p of [
      '/',
      '',
      '//evil.example/',
      '///evil.example/',
      '/\\evil.example/',
      'http://evil.example/',
      'https:evil.example',
      'javascript:alert(1)',
      'evil',
      '/index.html',
      BASE.slice(0, -1),
      `/s/${'b'.repeat(32)}/`,
      `${BASE}..`,
      `${BASE}../`,
      `${BASE}../../evil`,
      `${BASE}./x`,
      `${BASE}%2e%2e/x`,
      `${BASE}%2E%2e/x`,
      `${BASE}.%2e/x`,
      `${BASE}..%2f..%2fx`,
      `${BASE}a%2F..%2F..%2Fx`,
      `${BASE}%5c..%5cx`,
      `${BASE}\\evil`,
      `${BASE}a\u0000b`,
      `${BASE}a%00b`,
      `${BASE}a\r\nSet-Cookie: x=1`,
      `${BASE}a%0d%0aSet-Cookie:%20x=1`,
      `${BASE}%ZZ`,
    ])
      expect(localPathUnder(BASE, p), JSON.stringify(p)).toBe(BASE);
  });

  it('never yields anything but a path under the base, for any mix of risky pieces', () => {
    const parts = ['..', '.', '%2e', '%2f', '%5c', '/', '//', '\\', 'a', '?', '#', ':', '@', '%00'];
    for (const a of parts)
      for (const b of parts)
        for (const c of parts) {
          const out = localPathUnder(BASE, `${BASE}${a}${b}${c}`);
          expect(out.startsWith(BASE), out).toBe(true);
          const resolved = new URL(out, 'http://127.0.0.1:1');
          expect(resolved.origin).toBe('http://127.0.0.1:1');
          expect(resolved.pathname.startsWith(BASE), out).toBe(true);
        }
  });

  it('encodes anything that could end the attribute or the refresh URL', () => {
    const out = localPathUnder(BASE, `${BASE}"><script>alert(1)</script>' ;url=x`);
    expect(out).not.toMatch(/["'<> \\]/);
    expect(out.startsWith(`${BASE}%22%3E%3Cscript%3E`)).toBe(true);
    expect(localPathUnder(BASE, `${BASE}é`)).toBe(`${BASE}%C3%A9`);
    expect(localPathUnder(BASE, `${BASE}a#b`)).toBe(`${BASE}a%23b`);
  });

  it('takes the base only when it is one', () => {
    expect(() => localPathUnder('/', '/x')).toThrow(/base path/);
    expect(() => localPathUnder('', '//evil.example/')).toThrow(/base path/);
  });
});

describe('resolveStaticPath', () => {
  it('maps / to index.html and nested paths under the root', () => {
    expect(resolveStaticPath(ROOT, '/')).toBe(`${ROOT}/index.html`);
    expect(resolveStaticPath(ROOT, '/assets/index-abc.js')).toBe(`${ROOT}/assets/index-abc.js`);
    expect(resolveStaticPath(ROOT, '/assets/a%20b.css')).toBe(`${ROOT}/assets/a b.css`);
  });
  it.each([
    '/../package.json',
    '/assets/../../package.json',
    '/%2e%2e/package.json',
    '/%2E%2E/package.json',
    '/.%2e/package.json',
    '/%2e%2e%2fpackage.json',
    '/..%2fpackage.json',
    '/assets/..%5c..%5cpackage.json',
    '/..\\package.json',
    '/index.html%00.png',
    '/%00',
    '/./index.html',
    '/%ZZ',
    '/..',
    'relative/path',
  ])('refuses %j', (p) => {
    expect(resolveStaticPath(ROOT, p)).toBeNull();
  });
  it('never leaves the root for any path of dots, slashes and encodings', () => {
    const parts = ['..', '.', '%2e', '%2E', '%2f', '%5c', '/', 'a', '%00', '\\'];
    const pick = (i: number, n: number): string => parts[Math.floor(i / parts.length ** n) % parts.length]!;
    for (let i = 0; i < parts.length ** 4; i++) {
      const p = `/${pick(i, 0)}${pick(i, 1)}${pick(i, 2)}${pick(i, 3)}`;
      const r = resolveStaticPath(ROOT, p);
      if (r !== null) expect(r.startsWith(`${ROOT}/`)).toBe(true);
    }
  });
});

describe('matchConsoleRoute', () => {
  it('accepts vnc and serial with a 12-character id', () => {
    expect(matchConsoleRoute('/console/vnc/abc123def456')).toEqual({ kind: 'vnc', vmId: 'abc123def456' });
    expect(matchConsoleRoute('/console/serial/000000000000')).toEqual({
      kind: 'serial',
      vmId: '000000000000',
    });
  });
  it.each([
    '/console/vnc/ABC123DEF456',
    '/console/vnc/abc123def45',
    '/console/vnc/abc123def4567',
    '/console/vnc/abc123def456/',
    '/console/qmp/abc123def456',
    '/console/vnc/..%2f..%2fetc',
    '/console/vnc/abc123def45%00',
    '/console/vnc/',
  ])('refuses %j', (p) => {
    expect(matchConsoleRoute(p)).toBeNull();
  });
});

describe('wire parsing', () => {
  it('parses requests and names what is wrong with bad ones', () => {
    expect(parseRequest('{"id":1,"method":"vm.list","params":{}}')).toEqual({
      ok: true,
      id: 1,
      method: 'vm.list',
      params: {},
    });
    expect(parseRequest('not json')).toMatchObject({ ok: false, id: null });
    expect(parseRequest('[1]')).toMatchObject({ ok: false, id: null });
    expect(parseRequest('{"method":"x"}')).toMatchObject({ ok: false, id: null });
    expect(parseRequest('{"id":{},"method":"x"}')).toMatchObject({ ok: false, id: null });
    expect(parseRequest('{"id":"a","method":5}')).toMatchObject({ ok: false, id: 'a' });
    expect(parseRequest('{"id":2,"method":""}')).toMatchObject({ ok: false, id: 2 });
  });
  it('agrees to the binary subprotocol only', () => {
    expect(selectConsoleProtocol(new Set(['binary']))).toBe('binary');
    expect(selectConsoleProtocol(new Set(['base64', 'binary']))).toBe('binary');
    expect(selectConsoleProtocol(new Set(['base64']))).toBe(false);
  });
});
