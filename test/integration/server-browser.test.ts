// The host server as Debian's Chromium sees it: the token-to-cookie flow, the CSP letting the page
// reach its own WebSockets (connect-src 'self' covering ws:) while blocking other ports and inline
// script, and a console bridge read from page script.
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const api = new WebSocket('ws://' + location.host + '/api');
api.onopen = () => api.send(JSON.stringify({ id: 1, method: 'echo', params: { hi: 'there' } }));
api.onmessage = (m) => { results.api = JSON.parse(m.data); };
api.onerror = () => { results.apiError = true; };
const con = new WebSocket('ws://' + location.host + '/console/serial/${VM}');
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
      '<script src="/assets/app.js"></script></head><body>ok</body></html>',
  );
  writeFileSync(join(dir, 'static', 'assets', 'app.js'), PAGE_SCRIPT);
  vm = createServer((s) => s.end(Buffer.from([0, 1, 2, 253, 254, 255])));
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
    'opens the printed URL, lands on / with a cookie, and talks over ws:',
    async () => {
      const context = await browser!.newContext();
      const page = await context.newPage();
      const response = await page.goto(server.url);
      expect(response?.status()).toBe(200);
      expect(page.url()).toBe(`http://127.0.0.1:${server.port}/`);

      const cookies = await context.cookies();
      const c = cookies.find((k) => k.name === 'hangar_token');
      expect(c).toMatchObject({ value: server.token, httpOnly: true, sameSite: 'Strict' });

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
      const again = await page.goto(`http://127.0.0.1:${server.port}/`);
      expect(again?.status()).toBe(200);
      await context.close();
    },
  );

  it.skipIf(!haveChromium)('refuses a fresh browser that has no token', async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    const response = await page.goto(`http://127.0.0.1:${server.port}/`);
    expect(response?.status()).toBe(401);
    expect(await page.textContent('body')).toContain('npm start');
    await context.close();
  });
});
