// The host server on a real loopback port with a fake dispatcher: the security checks a browser or a
// hostile page would meet, the API protocol, and console bridges to real UNIX sockets. The app lives
// under the server's secret base path; the helpers take app paths (`/api`) and put them under it.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HangarError } from '../../src/shared/errors';
import { startHostServer } from '../../src/main/server';
import type { ApiDispatcher, ConsoleKind, HostServer } from '../../src/main/server';

const SECRET = 'TOP-SECRET-OUTSIDE-STATIC';
const VM = 'abc123def456';

let dir: string;
let server: HostServer;
let origin: string;
let cookie: string;
const listeners = new Set<(event: string, data: unknown) => void>();
const consoles = new Map<string, string>();

async function callAsync(method: string, params: unknown, caller: string): Promise<unknown> {
  switch (method) {
    case 'echo':
      return params;
    case 'whoami':
      return caller;
    case 'nothing':
      return undefined;
    case 'missing':
      throw new HangarError('NOT_FOUND', 'No VM with that id.', { id: params });
    case 'crash':
      throw new Error('plain failure');
    case 'delay': {
      const ms = (params as { ms: number }).ms;
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    }
    case 'emit':
      for (const l of listeners) l('vm.state', params);
      return true;
    case 'cyclic': {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    }
    default:
      throw new HangarError('INVALID_INPUT', `Unknown method ${method}`);
  }
}

const dispatcher: ApiDispatcher = {
  call(method, params, caller) {
    // A dispatcher that throws before it returns a promise must not take the server down.
    if (method === 'sync-throw') throw new TypeError('sync');
    return callAsync(method, params, caller);
  },
  subscribe(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  consoleSocket(vmId: string, kind: ConsoleKind) {
    return consoles.get(`${vmId}/${kind}`) ?? null;
  },
};

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An app path (`/`, `/api`, `/assets/x.js`) where the server serves it: under its base path. */
function at(path: string): string {
  return `${server.basePath}${path.slice(1)}`;
}

function raw(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return rawAt(at(path), headers, method);
}

/**
 * A request for exactly this path. http.request rather than fetch: fetch normalizes `..` away and
 * will not let us forge Host.
 */
function rawAt(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method,
        headers: { Host: `127.0.0.1:${server.port}`, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function authed(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return raw(path, { Cookie: cookie, ...headers }, method);
}

interface WsOpts {
  origin?: string | null;
  headers?: Record<string, string>;
  protocols?: string[];
  query?: string;
  /** Take the path as it is, not as an app path under the base. */
  exact?: boolean;
}

function wsUrl(path: string, query = ''): string {
  return `ws://127.0.0.1:${server.port}${path}${query}`;
}

/** Resolves with the open socket, or rejects with the HTTP status that refused the upgrade. */
function openWs(path: string, opts: WsOpts = {}): Promise<WebSocket> {
  const headers: Record<string, string> = { Cookie: cookie, ...opts.headers };
  const ws = new WebSocket(wsUrl(opts.exact ? path : at(path), opts.query), opts.protocols ?? [], {
    headers,
    ...(opts.origin === null ? {} : { origin: opts.origin ?? origin }),
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

/** An API client that matches replies by id and keeps pushed events. */
function apiClient(ws: WebSocket) {
  const events: { event: string; data: unknown }[] = [];
  const pending = new Map<unknown, (msg: Record<string, unknown>) => void>();
  const stray: Record<string, unknown>[] = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as Record<string, unknown>;
    if ('event' in msg) events.push(msg as { event: string; data: unknown });
    else if (pending.has(msg.id)) pending.get(msg.id)?.(msg);
    else stray.push(msg);
  });
  let next = 1;
  return {
    events,
    stray,
    call(method: unknown, params?: unknown, id: unknown = next++): Promise<Record<string, unknown>> {
      return new Promise((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    nextStray(): Promise<Record<string, unknown>> {
      return waitFor(() => stray.shift());
    },
  };
}

async function waitFor<T>(get: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sockets: WebSocket[] = [];
async function track(p: Promise<WebSocket>): Promise<WebSocket> {
  const ws = await p;
  sockets.push(ws);
  return ws;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hsrv-'));
  writeFileSync(join(dir, 'secret.txt'), SECRET);
  writeFileSync(join(dir, 'package.json'), SECRET);
  const stat = join(dir, 'static');
  mkdirSync(join(stat, 'assets'), { recursive: true });
  writeFileSync(
    join(stat, 'index.html'),
    '<!doctype html><title>Hangar</title><script src="/assets/app.js"></script>',
  );
  writeFileSync(join(stat, 'assets', 'app.js'), 'console.log(1);');
  writeFileSync(join(stat, 'assets', 'style.css'), 'body{}');
  writeFileSync(join(stat, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(stat, 'assets', 'font.woff2'), 'x');
  writeFileSync(join(stat, 'assets', 'mod.wasm'), 'x');
  symlinkSync(join(dir, 'secret.txt'), join(stat, 'assets', 'link.txt'));
  server = await startHostServer({ dispatcher, staticDir: stat });
  origin = `http://127.0.0.1:${server.port}`;
  cookie = `hangar_token=${server.token}`;
});

afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('listening and tokens', () => {
  it('listens on 127.0.0.1 only and hands out a fresh token and base path in the URL', async () => {
    expect(server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: server.port });
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.basePath).toMatch(/^\/s\/[A-Za-z0-9_-]{32}\/$/);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}${server.basePath}?token=${server.token}`);
    const other = await startHostServer({ dispatcher });
    try {
      expect(other.token).not.toBe(server.token);
      expect(other.basePath).not.toBe(server.basePath);
      expect(other.port).not.toBe(server.port);
    } finally {
      await other.close();
    }
  });

  it('is not reachable on other addresses of this host', async () => {
    const addrs = ['::1'];
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) if (!a.internal) addrs.push(a.address);
    for (const address of addrs) {
      const sock = connect({ host: address, port: server.port });
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        sock.once('connect', () => resolve(null));
        sock.once('error', resolve);
      });
      sock.destroy();
      expect(err?.code, `connect to ${address}`).toMatch(/ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH|EINVAL/);
    }
  });

  it('refuses the app without a token and says what to open', async () => {
    for (const path of ['/', '/index.html', '/assets/app.js']) {
      const r = await raw(path);
      expect(r.status).toBe(401);
      expect(r.body).toContain('npm start');
      expect(r.body).not.toContain('<script');
    }
    expect((await raw('/', { Cookie: 'hangar_token=wrong' })).status).toBe(401);
    expect((await raw(`/?token=${'0'.repeat(64)}`)).status).toBe(401);
  });

  it('trades the URL token for an HttpOnly SameSite=Strict cookie for the base path only, and redirects to a clean URL', async () => {
    const r = await rawAt(new URL(server.url).pathname + new URL(server.url).search);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe(server.basePath);
    const setCookie = String(r.headers['set-cookie']);
    expect(setCookie).toContain(`hangar_token=${server.token}`);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie.split('; ')).toContain(`Path=${server.basePath}`);
    const page = await raw('/', { Cookie: setCookie.split(';')[0]! });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Hangar</title>');
    const deep = await raw(`/assets/app.js?token=${server.token}&v=2`);
    expect(deep.headers.location).toBe(at('/assets/app.js?v=2'));
  });

  it('sends the browser on only to a path under the base after the exchange (no open redirect)', async () => {
    const hostile = [
      '..%2f..%2fevil',
      '%2e%2e/%2e%2e/evil',
      '../../evil',
      './../../evil',
      '..\\..\\evil',
      '%5c%5cevil.example/',
      '/evil.example/',
      'a/../../..//evil.example/',
    ];
    const base = new URL(server.basePath, origin);
    for (const rest of hostile) {
      for (const site of ['none', 'cross-site']) {
        const r = await rawAt(`${server.basePath}${rest}?token=${server.token}`, { 'Sec-Fetch-Site': site });
        expect(r.status, `${rest} ${site}`).toBe(site === 'none' ? 303 : 200);
        const to =
          site === 'none'
            ? String(r.headers.location)
            : /content="0;url=([^"]*)"/.exec(r.body)?.[1]?.replaceAll('&amp;', '&');
        expect(to, `${rest} ${site}`).toBeDefined();
        const landed = new URL(to!, base);
        expect(landed.origin, `${rest} ${site}: ${to}`).toBe(origin);
        expect(landed.pathname.startsWith(server.basePath), `${rest} ${site}: ${to}`).toBe(true);
      }
    }
  });

  it('answers 404 to everything outside the base path, whatever it carries, and says nothing', async () => {
    const good: Record<string, string> = { Cookie: cookie, Origin: origin };
    const paths = [
      '/',
      '/index.html',
      '/assets/app.js',
      '/api',
      `/console/serial/${VM}`,
      `/?token=${server.token}`,
      `/api?token=${server.token}`,
      server.basePath.slice(0, -1),
      `${server.basePath.slice(0, -1)}?token=${server.token}`,
      `/s/${'A'.repeat(32)}/?token=${server.token}`,
      `//${server.basePath}`,
    ];
    const bodies = new Set<string>();
    for (const path of paths)
      for (const headers of [
        {} as Record<string, string>,
        good,
        { ...good, Host: `evil.example:${server.port}` },
        { Origin: 'null' },
      ]) {
        const r = await rawAt(path, headers);
        expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(404);
        expect(r.headers['set-cookie']).toBeUndefined();
        expect(r.headers.location).toBeUndefined();
        bodies.add(r.body);
      }
    expect([...bodies]).toEqual(['Not found.\n']);
    // WebSockets out here too: the page's cookie and a query token open nothing...
    for (const path of [`/console/serial/${VM}`, '/console/vnc/abc123def456', '/x'])
      await expect(openWs(path, { exact: true, query: `?token=${server.token}` })).rejects.toThrow(
        'HTTP 404',
      );
    await expect(openWs('/api', { exact: true })).rejects.toThrow('HTTP 404');
    await expect(
      openWs('/api', { exact: true, origin: 'http://evil.example', query: `?token=${server.token}` }),
    ).rejects.toThrow('HTTP 404');
    await expect(
      openWs('/api', { exact: true, headers: { Cookie: '' }, query: `?token=${'0'.repeat(64)}` }),
    ).rejects.toThrow('HTTP 404');
    // ...except /api for a non-browser client (the CLI) with the token in the query and our Origin.
    const cli = await track(
      openWs('/api', { exact: true, headers: { Cookie: '' }, query: `?token=${server.token}` }),
    );
    expect(cli.readyState).toBe(WebSocket.OPEN);
  });

  it('answers a token link from another site (a file:// launch page) with a page that moves on', async () => {
    // A redirect chain that began cross-site may lose the SameSite=Strict cookie; a same-origin
    // navigation started by the page itself does not.
    const r = await raw(`/vm?token=${server.token}&tab=serial`, { 'Sec-Fetch-Site': 'cross-site' });
    expect(r.status).toBe(200);
    expect(String(r.headers['set-cookie'])).toContain(`hangar_token=${server.token}`);
    expect(r.headers['content-type']).toContain('text/html');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    expect(r.body).toContain(`<meta http-equiv="refresh" content="0;url=${at('/vm?tab=serial')}">`);
    expect(r.body).not.toContain(server.token);
    expect(r.body).not.toContain('<script');
    // Same-site and typed links keep the plain redirect.
    for (const site of ['none', 'same-origin']) {
      const same = await raw(`/?token=${server.token}`, { 'Sec-Fetch-Site': site });
      expect(same.status).toBe(303);
    }
    // A foreign Host or Origin is refused before any of this.
    expect(
      (await raw(`/?token=${server.token}`, { 'Sec-Fetch-Site': 'cross-site', Origin: 'null' })).status,
    ).toBe(403);
  });

  it('refuses a stale token in the URL even alongside a good cookie', async () => {
    expect((await authed(`/?token=${'1'.repeat(64)}`)).status).toBe(401);
  });
});

describe('Host and Origin checks', () => {
  it('refuses a foreign Host (DNS rebinding) even with the token', async () => {
    for (const host of [`evil.example:${server.port}`, 'evil.example', `127.0.0.1:${server.port + 1}`]) {
      const r = await authed(`/?token=${server.token}`, { Host: host });
      expect([403, 421]).toContain(r.status);
      expect(r.headers['set-cookie']).toBeUndefined();
    }
    expect((await authed('/', { Host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('refuses a foreign Origin on HTTP', async () => {
    for (const o of ['http://evil.example', 'null', `http://127.0.0.1:${server.port + 1}`]) {
      expect((await authed('/', { Origin: o })).status).toBe(403);
      expect((await authed('/assets/app.js', { Origin: o }, 'POST')).status).toBe(403);
    }
    expect((await authed('/', { Origin: origin })).status).toBe(200);
  });

  it('checks every WebSocket upgrade: Host, Origin (required) and token', async () => {
    await expect(openWs('/api', { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(openWs('/api', { origin: null })).rejects.toThrow('HTTP 403');
    await expect(openWs('/api', { headers: { Host: `evil.example:${server.port}` } })).rejects.toThrow(
      /HTTP 4(03|21)/,
    );
    await expect(openWs('/api', { headers: { Cookie: '' } })).rejects.toThrow('HTTP 401');
    await expect(openWs(`/console/vnc/${VM}`, { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(openWs(`/console/serial/${VM}`, { headers: { Cookie: '' } })).rejects.toThrow('HTTP 401');
    // A CLI without cookies passes the token in the query.
    const ws = await track(openWs('/api', { headers: { Cookie: '' }, query: `?token=${server.token}` }));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    await expect(openWs('/nowhere')).rejects.toThrow('HTTP 404');
  });
});

describe('static files', () => {
  it('serves with the right content types and security headers', async () => {
    const cases: [string, string][] = [
      ['/', 'text/html'],
      ['/assets/app.js', 'text/javascript'],
      ['/assets/style.css', 'text/css'],
      ['/assets/logo.svg', 'image/svg+xml'],
      ['/assets/font.woff2', 'font/woff2'],
      ['/assets/mod.wasm', 'application/wasm'],
    ];
    for (const [path, type] of cases) {
      const r = await authed(path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type']).toContain(type);
    }
    const index = await authed('/');
    expect(index.headers['cache-control']).toBe('no-store');
    for (const r of [index, await raw('/'), await authed('/missing.js'), await authed('/%2e%2e/x')]) {
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("base-uri 'none'");
      expect(csp).toContain("form-action 'none'");
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('never serves files outside the static directory', async () => {
    const attempts = [
      '/../package.json',
      '/../secret.txt',
      '/%2e%2e/package.json',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/../../secret.txt',
      '/assets/..%5c..%5csecret.txt',
      '/assets/link.txt',
      '/index.html%00.js',
      '//../secret.txt',
      `/${join(dir, 'secret.txt')}`,
    ];
    for (const path of attempts) {
      const r = await authed(path);
      expect([400, 403, 404], path).toContain(r.status);
      expect(r.body, path).not.toContain(SECRET);
    }
  });

  it('answers plain HTTP on WebSocket endpoints and other methods sensibly', async () => {
    expect((await authed('/api')).status).toBe(426);
    expect((await authed('/', {}, 'DELETE')).status).toBe(405);
    const head = await authed('/assets/app.js', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('explains how to build the UI when there is none', async () => {
    const other = await startHostServer({ dispatcher, staticDir: join(dir, 'no-such-dir') });
    try {
      const r = await new Promise<Reply>((resolve, reject) => {
        request(
          {
            host: '127.0.0.1',
            port: other.port,
            path: other.basePath,
            headers: { Cookie: `hangar_token=${other.token}` },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          },
        )
          .on('error', reject)
          .end();
      });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toContain('text/html');
      expect(r.body).toContain('npm run build');
    } finally {
      await other.close();
    }
  });
});

describe('API socket', () => {
  it('round-trips calls and maps errors to data', async () => {
    const api = apiClient(await track(openWs('/api')));
    expect(await api.call('echo', { a: [1, 'two', null] })).toEqual({
      id: 1,
      ok: true,
      result: { a: [1, 'two', null] },
    });
    expect(await api.call('nothing')).toEqual({ id: 2, ok: true, result: null });
    expect(await api.call('missing', 'vm1', 'str-id')).toEqual({
      id: 'str-id',
      ok: false,
      error: { code: 'NOT_FOUND', message: 'No VM with that id.', details: { id: 'vm1' } },
    });
    expect(await api.call('crash')).toMatchObject({
      ok: false,
      error: { code: 'INTERNAL', message: 'plain failure' },
    });
    expect(await api.call('sync-throw')).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(await api.call('cyclic')).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('runs calls from the app’s page as the renderer, and from the token holder (the CLI) as the user', async () => {
    // The page's socket: cookie, under the base. The renderer names no host file (api/callers.ts).
    const page = apiClient(await track(openWs('/api')));
    expect(await page.call('whoami')).toMatchObject({ ok: true, result: 'renderer' });
    // A query token under the base is still the page's socket (a page holding the URL token).
    const pageWithToken = apiClient(await track(openWs('/api', { query: `?token=${server.token}` })));
    expect(await pageWithToken.call('whoami')).toMatchObject({ ok: true, result: 'renderer' });
    // The CLI's socket: /api outside the base with the token, as src/main/api/ws-client.ts opens it.
    const cli = apiClient(
      await track(openWs('/api', { exact: true, query: `?token=${server.token}`, headers: { Cookie: '' } })),
    );
    expect(await cli.call('whoami')).toMatchObject({ ok: true, result: 'user' });
  });

  it('answers concurrent calls by id, out of order', async () => {
    const api = apiClient(await track(openWs('/api')));
    const order: number[] = [];
    await Promise.all(
      [150, 10, 80].map((ms) =>
        api.call('delay', { ms }).then((r) => {
          order.push(r.result as number);
        }),
      ),
    );
    expect(order).toEqual([10, 80, 150]);
  });

  it('answers malformed messages with INVALID_INPUT and keeps serving', async () => {
    const ws = await track(openWs('/api'));
    const api = apiClient(ws);
    for (const bad of ['not json', '[]', '42', '{"method":"echo"}', '{"id":{},"method":"echo"}']) {
      ws.send(bad);
      expect(await api.nextStray()).toMatchObject({ id: null, ok: false, error: { code: 'INVALID_INPUT' } });
    }
    expect(await api.call(7, null, 'm')).toMatchObject({
      id: 'm',
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    ws.send(Buffer.from('{"id":1,"method":"echo"}'), { binary: true });
    expect(await api.nextStray()).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await api.call('echo', 5)).toMatchObject({ ok: true, result: 5 });
  });

  it('closes with 1009 on a message over 1 MiB, and the server carries on', async () => {
    const ws = await track(openWs('/api'));
    const done = closed(ws);
    ws.send(JSON.stringify({ id: 1, method: 'echo', params: 'x'.repeat(1024 * 1024 + 10) }));
    expect((await done).code).toBe(1009);
    const api = apiClient(await track(openWs('/api')));
    expect(await api.call('echo', 'ok')).toMatchObject({ ok: true, result: 'ok' });
  });

  it('pushes events to every client and unsubscribes closed ones', async () => {
    // Earlier tests' clients are terminated client-side; let the server notice before counting.
    await waitFor(() => (listeners.size === 0 ? true : undefined));
    const a = apiClient(await track(openWs('/api')));
    const bWs = await track(openWs('/api'));
    const b = apiClient(bWs);
    expect(listeners.size).toBe(2);
    await a.call('emit', { id: VM, state: 'running' });
    await waitFor(() => b.events[0]);
    expect(a.events).toEqual([{ event: 'vm.state', data: { id: VM, state: 'running' } }]);
    expect(b.events).toEqual(a.events);
    bWs.close();
    await waitFor(() => (listeners.size === 1 ? true : undefined));
  });
});

describe('console bridges', () => {
  let vmServer: Server;
  let peers: Socket[];
  let received: Buffer[];
  const sockPath = () => join(dir, 'serial.sock');

  beforeAll(async () => {
    peers = [];
    received = [];
    vmServer = createServer((s) => {
      peers.push(s);
      s.on('data', (d: Buffer) => received.push(d));
    });
    vmServer.listen(sockPath());
    await once(vmServer, 'listening');
    consoles.set(`${VM}/serial`, sockPath());
    consoles.set(`${VM}/vnc`, join(dir, 'gone.sock'));
  });
  afterEach(() => {
    for (const p of peers.splice(0)) p.destroy();
    received.length = 0;
  });
  afterAll(() => new Promise<void>((r) => vmServer.close(() => r())));

  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

  it('pipes every byte value both ways, binary frames out, text frames in as UTF-8', async () => {
    const ws = await track(openWs(`/console/serial/${VM}`));
    expect(ws.protocol).toBe('');
    const peer = await waitFor(() => peers[0]);
    const got: Buffer[] = [];
    const binaries: boolean[] = [];
    ws.on('message', (d: Buffer, isBinary) => {
      got.push(d);
      binaries.push(isBinary);
    });
    peer.write(allBytes);
    peer.write(allBytes);
    await waitFor(() => (Buffer.concat(got).length >= 512 ? true : undefined));
    expect(Buffer.concat(got)).toEqual(Buffer.concat([allBytes, allBytes]));
    expect(binaries.every(Boolean)).toBe(true);

    ws.send(allBytes, { binary: true });
    ws.send('héllo ✓\r');
    const expected = Buffer.concat([allBytes, Buffer.from('héllo ✓\r', 'utf8')]);
    await waitFor(() => (Buffer.concat(received).length >= expected.length ? true : undefined));
    expect(Buffer.concat(received)).toEqual(expected);

    const peerClosed = once(peer, 'close');
    ws.close();
    await peerClosed;
  });

  it('sends many tiny console writes as few frames, in order, and flushes them before closing', async () => {
    const ws = await track(openWs(`/console/serial/${VM}`));
    const peer = await waitFor(() => peers[0]);
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    const wsClosed = closed(ws);
    // Like QEMU's serial chardev: a few bytes per write, many writes in a row.
    const pieces = Array.from({ length: 2000 }, (_, i) => Buffer.from(`${i % 1000};`));
    for (const p of pieces) peer.write(p);
    peer.end();
    await wsClosed;
    expect(Buffer.concat(got)).toEqual(Buffer.concat(pieces));
    expect(got.length).toBeLessThan(pieces.length / 10);
  });

  it('delivers what the console sends at connect (a VNC greeting) as the first frame', async () => {
    // The bridge connects to the console while the WebSocket handshake is under way.
    vmServer.once('connection', (sock: Socket) => sock.write('RFB 003.008\n'));
    const ws = await track(openWs(`/console/serial/${VM}`));
    const first = await new Promise<Buffer>((resolve) => ws.once('message', (d: Buffer) => resolve(d)));
    expect(first.toString()).toBe('RFB 003.008\n');
  });

  it('closes the console connection of a WebSocket handshake that fails', async () => {
    const tcp = connect(server.port, '127.0.0.1');
    await once(tcp, 'connect');
    // Authorized, but not a valid WebSocket handshake (no key, an unknown version): ws refuses it
    // after the bridge has started connecting to the console.
    tcp.write(
      `GET ${at(`/console/serial/${VM}`)} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n` +
        `Origin: ${origin}\r\nCookie: ${cookie}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 99\r\n\r\n',
    );
    const reply = await new Promise<string>((resolve) =>
      tcp.once('data', (d: Buffer) => resolve(d.toString())),
    );
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    tcp.destroy();
    const peer = await waitFor(() => peers[0]);
    if (!peer.destroyed) await once(peer, 'close');
    expect(peer.destroyed).toBe(true);
  });

  it('closes the WebSocket when the console socket closes', async () => {
    const ws = await track(openWs(`/console/serial/${VM}`, { protocols: ['binary'] }));
    expect(ws.protocol).toBe('binary');
    const peer = await waitFor(() => peers[0]);
    const done = closed(ws);
    peer.end();
    expect((await done).code).toBe(1000);
  });

  it('closes with 4404 for a VM without a console and 4502 for a dead socket', async () => {
    const unknown = await openWs('/console/serial/zzzzzzzzzzzz');
    const r = await closed(unknown);
    expect(r.code).toBe(4404);
    expect(r.reason).toContain('zzzzzzzzzzzz');
    const stale = await openWs(`/console/vnc/${VM}`);
    expect((await closed(stale)).code).toBe(4502);
    await expect(openWs('/console/serial/NOT-AN-ID')).rejects.toThrow('HTTP 404');
    await expect(openWs('/console/tty/abc123def456')).rejects.toThrow('HTTP 404');
  });

  it('delivers a large burst intact to a client that reads late (backpressure)', async () => {
    const ws = await track(openWs(`/console/serial/${VM}`));
    const peer = await waitFor(() => peers[0]);
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
    const total = 32;
    const want = createHash('sha256');
    for (let i = 0; i < total; i++) want.update(chunk);
    ws.pause();
    for (let i = 0; i < total; i++) peer.write(chunk);
    await new Promise((r) => setTimeout(r, 300));
    // The bridge stopped reading the VM socket, so the rest waits in the VM side's own buffer.
    expect(peer.writableLength).toBeGreaterThan(16 * 1024 * 1024);
    const hash = createHash('sha256');
    let n = 0;
    ws.on('message', (d: Buffer) => {
      hash.update(d);
      n += d.length;
    });
    ws.resume();
    await waitFor(() => (n >= total * chunk.length ? true : undefined), 20_000);
    expect(n).toBe(total * chunk.length);
    expect(hash.digest('hex')).toBe(want.digest('hex'));
  });
});

describe('console bridge to a real QEMU VNC server', () => {
  const QEMU = '/usr/bin/qemu-system-x86_64';
  const haveQemu = existsSync(QEMU);
  if (!haveQemu) console.log(`skipping the QEMU VNC bridge test: ${QEMU} is not installed`);
  let qemu: ChildProcess | null = null;

  afterAll(async () => {
    if (qemu && qemu.exitCode === null) {
      const exited = once(qemu, 'exit');
      qemu.kill('SIGKILL');
      await exited;
    }
  });

  it.skipIf(!haveQemu)('relays the RFB greeting and the version reply', async () => {
    const sock = join(dir, 'vnc.sock');
    qemu = spawn(
      QEMU,
      ['-machine', 'none', '-nodefaults', '-display', 'none', '-S', '-accel', 'tcg', '-vnc', `unix:${sock}`],
      { stdio: 'ignore' },
    );
    await waitFor(() => (existsSync(sock) ? true : undefined), 10_000);
    consoles.set('qemuvnc00001/vnc', sock);
    const ws = await track(openWs('/console/vnc/qemuvnc00001', { protocols: ['binary'] }));
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    await waitFor(() => (Buffer.concat(got).length >= 12 ? true : undefined));
    expect(Buffer.concat(got).toString('latin1')).toBe('RFB 003.008\n');
    // The version reply travels to QEMU, which answers with its security types (count, then types).
    got.length = 0;
    ws.send(Buffer.from('RFB 003.008\n', 'latin1'));
    const types = await waitFor(() => (Buffer.concat(got).length >= 2 ? Buffer.concat(got) : undefined));
    expect(types[0]).toBeGreaterThan(0);
    expect(types.length).toBe(1 + types[0]!);
  });
});

describe('closing', () => {
  it('closes clients with 1001 and stops listening', async () => {
    const other = await startHostServer({ dispatcher });
    const ws = new WebSocket(`ws://127.0.0.1:${other.port}/api?token=${other.token}`, {
      origin: `http://127.0.0.1:${other.port}`,
    });
    await once(ws, 'open');
    const done = closed(ws);
    await other.close();
    expect((await done).code).toBe(1001);
    const sock = connect({ host: '127.0.0.1', port: other.port });
    const [err] = (await once(sock, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('refuses a port already in use with BUSY', async () => {
    await expect(startHostServer({ dispatcher, port: server.port })).rejects.toMatchObject({ code: 'BUSY' });
  });
});
