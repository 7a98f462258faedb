// The host server as Debian's Chromium sees it: the token-to-cookie flow, the CSP letting the page
// reach its own WebSockets (connect-src 'self' covering ws:) while blocking other ports and inline
// script, a console bridge read from page script, and the token cookie staying away from every
// other server on 127.0.0.1 (cookies ignore ports; the base path is what scopes it).
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium';
import { chromium, type Browser } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHostServer, type ApiDispatcher, type HostServer } from '../../src/main/server';

const CHROMIUM = CHROMIUM_PATH;
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.log(`skipping the browser test: ${CHROMIUM} is not installed (apt install chromium)`);

const VM = 'browser00001';

// Runs in the page. Plain script file because the CSP forbids inline script.
const PAGE_SCRIPT = `
const results = { violations: [], inlineRan: false, cookieVisible: document.cookie.includes('hangar_token') };
window.results = results;
document.addEventListener('securitypolicyviolation', (e) => results.violations.push(e.violatedDirective + ' ' + e.blockedURI));
// Beside the page, as the renderer builds it: everything lives under the server's base path.
const base = 'ws://' + location.host + location.pathname.replace(/[^/]*$/, '');
const api = new WebSocket(base + 'api');
api.onopen = () => api.send(JSON.stringify({ id: 1, method: 'echo', params: { hi: 'there' } }));
api.onmessage = (m) => { results.api = JSON.parse(m.data); };
api.onerror = () => { results.apiError = true; };
const con = new WebSocket(base + 'console/serial/${VM}');
con.binaryType = 'arraybuffer';
con.onmessage = (m) => { results.console = Array.from(new Uint8Array(m.data)); };
try {
  const other = new WebSocket('ws://127.0.0.1:9/');
  other.onerror = () => { results.otherPortError = true; };
} catch (e) { results.otherPortError = String(e); }
`;

let dir: string;
let server: HostServer;
let vm: Server;
let browser: Browser | null = null;

const dispatcher: ApiDispatcher = {
  call: async (method, params) => (method === 'echo' ? params : null),
  subscribe: () => () => {},
  consoleSocket: (vmId, kind) => (vmId === VM && kind === 'serial' ? join(dir, 's.sock') : null),
};

beforeAll(async () => {
  if (!haveChromium) return;
  dir = mkdtempSync(join(tmpdir(), 'hsrvb-'));
  mkdirSync(join(dir, 'static', 'assets'), { recursive: true });
  writeFileSync(
    join(dir, 'static', 'index.html'),
    '<!doctype html><html><head><title>Hangar test</title>' +
      '<script>window.inlineRan = true;</script>' +
      '<script src="assets/app.js"></script></head><body>ok</body></html>',
  );
  writeFileSync(join(dir, 'static', 'assets', 'app.js'), PAGE_SCRIPT);
  vm = createServer((s) => {
    // The bridge may drop its connection before reading (a page that goes away mid-handshake):
    // a reset is normal for QEMU's console socket, and must not be an uncaught error here.
    s.on('error', () => undefined);
    s.end(Buffer.from([0, 1, 2, 253, 254, 255]));
  });
  vm.listen(join(dir, 's.sock'));
  await once(vm, 'listening');
  server = await startHostServer({ dispatcher, staticDir: join(dir, 'static') });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (vm) await new Promise<void>((r) => vm.close(() => r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('host server in Chromium', () => {
  it.skipIf(!haveChromium)(
    'opens the printed URL, lands on the base path with a cookie for it, and talks over ws:',
    async () => {
      const context = await browser!.newContext();
      const page = await context.newPage();
      const response = await page.goto(server.url);
      expect(response?.status()).toBe(200);
      expect(page.url()).toBe(`http://127.0.0.1:${server.port}${server.basePath}`);

      const cookies = await context.cookies();
      const c = cookies.find((k) => k.name === 'hangar_token');
      expect(c).toMatchObject({
        value: server.token,
        httpOnly: true,
        sameSite: 'Strict',
        path: server.basePath,
      });

      await page.waitForFunction(
        () => {
          const r = (window as unknown as { results?: Record<string, unknown> }).results;
          return r?.api !== undefined && r?.console !== undefined && r?.otherPortError !== undefined;
        },
        undefined,
        { timeout: 10_000 },
      );
      const results = await page.evaluate(
        () => (window as unknown as { results: Record<string, unknown> }).results,
      );
      const inlineRan = await page.evaluate(
        () => (window as unknown as { inlineRan?: boolean }).inlineRan === true,
      );
      expect(results.api).toEqual({ id: 1, ok: true, result: { hi: 'there' } });
      expect(results.console).toEqual([0, 1, 2, 253, 254, 255]);
      expect(results.cookieVisible).toBe(false);
      // The inline script is blocked before app.js can listen for violations; that it never ran is the proof.
      expect(inlineRan).toBe(false);
      const violations = results.violations as string[];
      expect(violations.some((v) => v.startsWith('connect-src') && v.includes(':9'))).toBe(true);
      expect(violations.filter((v) => v.includes(`:${server.port}`))).toEqual([]);

      // A reload needs no token in the URL: the cookie carries it.
      const again = await page.goto(`http://127.0.0.1:${server.port}${server.basePath}`);
      expect(again?.status()).toBe(200);
      // Outside the base there is nothing, cookie or not.
      expect((await page.goto(`http://127.0.0.1:${server.port}/`))?.status()).toBe(404);
      await context.close();
    },
  );

  it.skipIf(!haveChromium)('refuses a fresh browser that has no token', async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    const response = await page.goto(`http://127.0.0.1:${server.port}${server.basePath}`);
    expect(response?.status()).toBe(401);
    expect(await page.textContent('body')).toContain('npm start');
    await context.close();
  });

  it.skipIf(!haveChromium)(
    'never lets another server on 127.0.0.1 see the token, the cookie or the base path',
    async () => {
      const spy = await startSpy();
      try {
        const context = await browser!.newContext();
        const page = await context.newPage();
        await page.goto(server.url);
        expect(page.url()).toBe(`http://127.0.0.1:${server.port}${server.basePath}`);
        const spyOrigin = `http://127.0.0.1:${spy.port}`;

        // The user types another local server's address into the same browser: top-level, so
        // SameSite=Strict does not stop the cookie there; only its Path can. That server's page
        // then asks its own origin for everything it can think of, with credentials.
        for (const path of ['/', '/s/', `/s/${'A'.repeat(32)}/`, '/api', '/index.html']) {
          await page.goto(`${spyOrigin}${path}`);
          await page.waitForFunction(() => document.title === 'probed', undefined, { timeout: 10_000 });
        }
        // Our page sends the browser there itself (a link, say): a same-site navigation.
        await page.goto(`http://127.0.0.1:${server.port}${server.basePath}`);
        await page.evaluate((to) => (location.href = to), `${spyOrigin}/from-the-app`);
        await page.waitForFunction(() => document.title === 'probed', undefined, { timeout: 10_000 });
        // The same name on localhost, the other way users reach 127.0.0.1.
        await page.goto(`http://localhost:${spy.port}/`);
        await page.waitForFunction(() => document.title === 'probed', undefined, { timeout: 10_000 });
        await context.close();

        // The spy saw the browser: navigations, its page's fetches and WebSocket.
        const seen = spy.requests.map((r) => r.split('\n')[0] ?? '');
        expect(seen).toContain('GET /from-the-app');
        expect(seen).toContain('GET /s/');
        expect(seen.filter((l) => l.startsWith('UPGRADE ')).length).toBeGreaterThanOrEqual(7);
        expect(spy.requests.length).toBeGreaterThanOrEqual(40);
        // And nothing of ours, anywhere in a request line, header or body.
        const secret = server.basePath.split('/')[2]!;
        const leaks = spy.requests.filter(
          (r) => r.includes(server.token) || r.includes('hangar_token') || r.includes(secret),
        );
        expect(leaks).toEqual([]);
      } finally {
        await spy.close();
      }
    },
  );
});

// The other server: answers every path with a page that probes its own origin (with credentials,
// so any cookie the browser would send to 127.0.0.1:SPY comes along) and records every request it
// gets, request line, all headers and body, and every WebSocket handshake.
const SPY_PROBE = `
(async () => {
  for (const p of ['/', '/api', '/s/', '/console/serial/${VM}', '/assets/app.js', location.pathname + 'x']) {
    try { await fetch(p, { credentials: 'include', method: 'POST', body: 'x' }); } catch {}
  }
  await new Promise((resolve) => {
    const ws = new WebSocket('ws://' + location.host + '/api');
    ws.onerror = ws.onclose = resolve;
  });
  document.title = 'probed';
})();
`;

async function startSpy(): Promise<{ port: number; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const record = (kind: string, req: import('node:http').IncomingMessage, body = '') => {
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    requests.push([`${kind} ${req.url}`, ...headers, body].join('\n'));
  };
  const spy: HttpServer = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('latin1')));
    req.on('end', () => {
      record(req.method ?? '?', req, body);
      const isProbe = req.url === '/probe.js';
      res.writeHead(200, {
        'Content-Type': isProbe ? 'text/javascript' : 'text/html',
        'Cache-Control': 'no-store',
      });
      res.end(isProbe ? SPY_PROBE : '<!doctype html><title>spy</title><script src="/probe.js"></script>');
    });
  });
  spy.on('upgrade', (req, socket) => {
    record('UPGRADE', req);
    socket.destroy();
  });
  spy.listen(0, '127.0.0.1');
  await once(spy, 'listening');
  const port = (spy.address() as import('node:net').AddressInfo).port;
  return {
    port,
    requests,
    close: () => new Promise<void>((r) => spy.close(() => r())),
  };
}
