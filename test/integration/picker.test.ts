// The browser UI's file picker (src/main/server/picker.ts) in front of a real engine: its own
// origin and credentials, what it lists (never Hangar's own data), how a choice becomes a grant,
// and, in Debian's Chromium, that the app's page can neither script the picker nor forge a choice,
// while a user's click in it gives the page a grant it can create a VM with.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDispatcher } from '../../src/main/api/dispatch';
import { Engine } from '../../src/main/engine/engine';
import { startHostServer, type HostServer } from '../../src/main/server';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/chromium';
import { makeIso } from '../support/iso';

const haveChromium = existsSync(CHROMIUM_PATH);
if (!haveChromium)
  console.log(
    `skipping the picker's browser tests: ${CHROMIUM_PATH} is not installed (apt install chromium)`,
  );

// The app page of these tests: the API over its cookie socket, as the renderer talks to it, and a
// "Choose…" button that opens the picker as the renderer does (src/renderer/src/api/pick.ts).
const PAGE_SCRIPT = `
const base = 'ws://' + location.host + location.pathname.replace(/[^/]*$/, '');
let next = 1;
const pending = new Map();
const ws = new WebSocket(base + 'api');
const ready = new Promise((r) => (ws.onopen = r));
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  const p = pending.get(msg.id);
  if (p) { pending.delete(msg.id); p(msg); }
};
window.api = async (method, params) => {
  await ready;
  const id = next++;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((r) => pending.set(id, r));
};
window.attempts = {};
window.chosen = null;
document.getElementById('choose').onclick = async () => {
  const opened = await window.api('picker.open', { purpose: 'iso' });
  window.pickerUrl = opened.result.url;
  window.open(opened.result.url, '_blank', 'noopener,noreferrer,popup,width=700,height=560');
  window.chosen = await window.api('picker.wait', { id: opened.result.id });
};
// What a hostile page would try: keep a handle on the picker window and script it.
document.getElementById('hostile').onclick = async () => {
  const opened = await window.api('picker.open', { purpose: 'iso' });
  window.pickerUrl = opened.result.url;
  window.hostileId = opened.result.id;
  const w = window.open(opened.result.url, 'picker', 'popup,width=700,height=560');
  window.handle = w;
  const a = window.attempts;
  a.handle = w === null ? 'null' : 'window';
  const tryIt = (name, fn) => { try { a[name] = 'ok: ' + String(fn()); } catch (e) { a[name] = 'refused: ' + e.name; } };
  setTimeout(() => {
    tryIt('document', () => w.document.body.innerHTML);
    tryIt('location', () => w.location.href);
    tryIt('click', () => w.document.querySelector('button').click());
    tryIt('closed', () => w.closed);
    a.done = true;
  }, 1500);
};
`;

const t = (() => {
  const root = mkdtempSync(join(tmpdir(), 'hangar-picker-'));
  const home = join(root, 'user');
  return {
    root,
    home,
    hangarHome: join(home, '.local', 'share', 'hangar'),
    runtime: mkdtempSync('/tmp/hp-'),
    downloads: join(home, 'Downloads'),
  };
})();
const iso = join(t.downloads, 'tiny.iso');
const secret = join(t.home, '.ssh', 'id_ed25519');
let engine: Engine;
let server: HostServer;
let browser: Browser | null = null;
let cookie: string;

beforeAll(async () => {
  mkdirSync(t.downloads, { recursive: true });
  mkdirSync(join(t.home, '.ssh'));
  mkdirSync(join(t.root, 'static', 'assets'), { recursive: true });
  makeIso(iso);
  writeFileSync(join(t.downloads, 'notes.txt'), 'x');
  writeFileSync(secret, 'PRIVATE KEY\n');
  writeFileSync(
    join(t.root, 'static', 'index.html'),
    '<!doctype html><title>app</title><button id="choose">Choose…</button>' +
      '<button id="hostile">hostile</button><script src="assets/app.js"></script>',
  );
  writeFileSync(join(t.root, 'static', 'assets', 'app.js'), PAGE_SCRIPT);
  engine = await Engine.open({
    home: t.hangarHome,
    env: {
      ...process.env,
      HOME: t.home,
      HANGAR_HOME: t.hangarHome,
      HANGAR_RUNTIME_DIR: t.runtime,
      HANGAR_ACCEL: 'tcg',
    },
  });
  // A link in the user's Downloads into Hangar's own data: never listed, never followed.
  mkdirSync(join(t.hangarHome, 'vms'), { recursive: true });
  symlinkSync(join(t.hangarHome, 'vms'), join(t.downloads, 'into-hangar'));
  writeFileSync(join(t.hangarHome, 'vms', 'other-vm.iso'), 'x');
  symlinkSync(join(t.hangarHome, 'vms', 'other-vm.iso'), join(t.downloads, 'lock.iso'));
  server = await startHostServer({ dispatcher: createDispatcher(engine), staticDir: join(t.root, 'static') });
  cookie = `hangar_token=${server.token}`;
  if (haveChromium) browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await engine?.close();
  rmSync(t.root, { recursive: true, force: true });
  rmSync(t.runtime, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function http(
  url: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        // An empty value leaves the header out (a request with no Origin at all).
        headers: Object.fromEntries(Object.entries({ Host: u.host, ...headers }).filter(([, v]) => v !== '')),
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
    req.end(body);
  });
}

/** The API as the app's page reaches it: the cookie socket under the base path (a renderer). */
async function pageApi() {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${server.basePath}api`, {
    origin: `http://127.0.0.1:${server.port}`,
    headers: { Cookie: cookie },
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let next = 1;
  const pending = new Map<number, (m: Record<string, unknown>) => void>();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as Record<string, unknown>;
    pending.get(m.id as number)?.(m);
  });
  return {
    call(method: string, params: unknown): Promise<Record<string, unknown>> {
      const id = next++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((r) => pending.set(id, r));
    },
    close: () => ws.close(),
  };
}

const NAVIGATE = {
  'Sec-Fetch-Dest': 'document',
  'Sec-Fetch-Mode': 'navigate',
  'Sec-Fetch-Site': 'same-site',
};

/** Opens a picker from the page's API and walks into it as a browser window would. */
async function openPicker(purpose = 'iso') {
  const api = await pageApi();
  const opened = (await api.call('picker.open', { purpose })).result as { id: string; url: string };
  const first = await http(opened.url, NAVIGATE);
  expect(first.status).toBe(303);
  const pickerOrigin = new URL(opened.url).origin;
  const session = `${pickerOrigin}${first.headers.location as string}`.replace(/\?.*$/, '');
  return { api, opened, pickerOrigin, session };
}

function choose(
  session: string,
  pickerOrigin: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return http(
    `${session}choose`,
    {
      Origin: pickerOrigin,
      'Sec-Fetch-Site': 'same-origin',
      'Sec-Fetch-Dest': 'document',
      'Content-Type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    'POST',
    new URLSearchParams(form).toString(),
  );
}

describe('the picker over HTTP', () => {
  it('is a different origin, entered once with its ticket by a top-level navigation only', async () => {
    const api = await pageApi();
    const opened = (await api.call('picker.open', { purpose: 'iso' })).result as { id: string; url: string };
    const url = new URL(opened.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(Number(url.port)).not.toBe(server.port);
    // A fetch, a frame, an image: refused, and the ticket is not used up by them.
    for (const dest of ['empty', 'iframe', 'image', 'script'])
      expect((await http(opened.url, { ...NAVIGATE, 'Sec-Fetch-Dest': dest })).status).toBe(403);
    // Another Host (DNS rebinding) or Origin: refused.
    expect((await http(opened.url, { ...NAVIGATE, Host: `evil.example:${url.port}` })).status).toBe(421);
    expect((await http(opened.url, { ...NAVIGATE, Origin: 'http://evil.example' })).status).toBe(403);
    const first = await http(opened.url, NAVIGATE);
    expect(first.status).toBe(303);
    expect(first.headers.location).toMatch(/^\/p\/[A-Za-z0-9_-]{43}\/\?dir=/);
    expect(first.headers['set-cookie']).toBeUndefined();
    // Once only.
    expect((await http(opened.url, NAVIGATE)).status).toBe(404);
    const page = await http(`${url.origin}${first.headers.location as string}`, NAVIGATE);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('same-origin');
    // A made-up session is nothing.
    expect((await http(`${url.origin}/p/${'A'.repeat(43)}/`, NAVIGATE)).status).toBe(404);
    api.close();
  });

  it('starts in ~/Downloads and lists what the policy accepts, never Hangar’s own data', async () => {
    const { api, session, pickerOrigin } = await openPicker();
    const page = await http(`${session}?dir=${encodeURIComponent(t.downloads)}&all=1&hidden=1`, NAVIGATE);
    expect(page.body).toContain('tiny.iso');
    expect(page.body).toContain('notes.txt');
    expect(page.body).not.toContain('into-hangar');
    expect(page.body).not.toContain('lock.iso');
    const share = await http(
      `${session}?dir=${encodeURIComponent(join(t.home, '.local', 'share'))}&hidden=1`,
      NAVIGATE,
    );
    expect(share.status).toBe(200);
    expect(share.body).not.toMatch(/>hangar\//);
    // Typed or linked, Hangar's data is not entered.
    for (const dir of [t.hangarHome, join(t.downloads, 'into-hangar')]) {
      const r = await http(`${session}?dir=${encodeURIComponent(dir)}`, NAVIGATE);
      expect(r.body).toContain('Hangar&#39;s own data');
      expect(r.body).not.toContain('other-vm.iso');
    }
    // The purpose filters files (.iso for an ISO) until "all files" is asked for.
    const filtered = await http(`${session}?dir=${encodeURIComponent(t.downloads)}`, NAVIGATE);
    expect(filtered.body).toContain('tiny.iso');
    expect(filtered.body).not.toContain('notes.txt');
    // Names are text, never markup.
    const odd = join(t.downloads, '<img src=x onerror=alert(1)>.iso');
    writeFileSync(odd, 'x');
    const escaped = await http(`${session}?dir=${encodeURIComponent(t.downloads)}`, NAVIGATE);
    expect(escaped.body).toContain('&lt;img src=x onerror=alert(1)&gt;.iso');
    expect(escaped.body).not.toContain('<img');
    rmSync(odd);
    void pickerOrigin;
    api.close();
  });

  it('takes a choice only from its own page, and hands the grant to the waiting API caller', async () => {
    const { api, opened, session, pickerOrigin } = await openPicker();
    const waiting = api.call('picker.wait', { id: opened.id });
    // From the app's origin, from another site, with no Origin, or same-site: refused.
    const forged: Record<string, string>[] = [
      { Origin: `http://127.0.0.1:${server.port}` },
      { Origin: 'http://evil.example' },
      { Origin: '' },
      { 'Sec-Fetch-Site': 'same-site' },
    ];
    for (const headers of forged) {
      const r = await choose(session, pickerOrigin, { path: iso }, headers);
      expect(r.status).toBe(403);
    }
    // A file the policy refuses is not granted; the picker says why.
    const refused = await choose(session, pickerOrigin, { path: join(t.downloads, 'lock.iso') });
    expect(refused.body).toContain('Hangar&#39;s own data');
    const done = await choose(session, pickerOrigin, { path: iso });
    expect(done.status).toBe(200);
    expect(done.body).toContain('tiny.iso');
    const picked = (await waiting).result as { grant: string; name: string; path: string };
    expect(picked).toMatchObject({ name: 'tiny.iso', path: iso });
    expect(picked.grant).toMatch(/^grant:[A-Za-z0-9_-]{22}$/);
    // The picker is done: nothing more is taken from it.
    expect((await choose(session, pickerOrigin, { path: secret })).status).toBe(410);
    // And the page can use the grant, never a typed path.
    expect(await api.call('disk.info', { path: secret })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    const created = await api.call('vm.create', {
      name: 'picked iso',
      iso: picked.grant,
      disk: { kind: 'none' },
    });
    expect(created).toMatchObject({ ok: true, result: { cdroms: [{ media: iso }] } });
    api.close();
  });

  it('grants a disk built on other files only once the user trusts that chain in the picker', async () => {
    const base = join(t.home, 'base.raw');
    const overlay = join(t.downloads, 'overlay.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', base, '16M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', base, overlay]);
    const { api, opened, session, pickerOrigin } = await openPicker('disk');
    const waiting = api.call('picker.wait', { id: opened.id });
    const asked = await choose(session, pickerOrigin, { path: overlay });
    expect(asked.body).toContain('is built on other files');
    expect(asked.body).toContain(`${base}</code> (raw)`);
    // Without the box ticked, or with another chain, it asks again.
    expect((await choose(session, pickerOrigin, { path: overlay, chain: base })).body).toContain(
      'is built on other files',
    );
    expect(
      (await choose(session, pickerOrigin, { path: overlay, chain: secret, trust: '1' })).body,
    ).toContain('is built on other files');
    const done = await choose(session, pickerOrigin, { path: overlay, chain: base, trust: '1' });
    expect(done.body).toContain('overlay.qcow2');
    const picked = (await waiting).result as { grant: string };
    // The page's request carries no chain: the grant does.
    const created = await api.call('vm.create', {
      name: 'on a chain',
      disk: { kind: 'existing', path: picked.grant },
    });
    expect(created).toMatchObject({
      ok: true,
      result: { disks: [{ path: overlay, backingChain: [{ path: base, format: 'raw' }] }] },
    });
    api.close();
  });

  it('answers null to the waiter when the user cancels', async () => {
    const { api, opened, session, pickerOrigin } = await openPicker();
    const waiting = api.call('picker.wait', { id: opened.id });
    const r = await http(
      `${session}cancel`,
      { Origin: pickerOrigin, 'Sec-Fetch-Site': 'same-origin' },
      'POST',
      '',
    );
    expect(r.status).toBe(200);
    expect(await waiting).toMatchObject({ ok: true, result: null });
    api.close();
  });
});

describe('the picker in Chromium', () => {
  async function appPage(): Promise<Page> {
    const context = await browser!.newContext();
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => typeof (window as unknown as { api?: unknown }).api === 'function');
    return page;
  }

  it.skipIf(!haveChromium)('the app’s page can neither read nor drive the picker window', async () => {
    const page = await appPage();
    const popupP = page.waitForEvent('popup');
    await page.click('#hostile');
    const popup = await popupP;
    await popup.waitForLoadState();
    await expect.poll(() => popup.getByTestId('picker-file').count()).toBeGreaterThan(0);
    await page.waitForFunction(() => (window as unknown as { attempts: { done?: boolean } }).attempts.done);
    const attempts = await page.evaluate(
      () => (window as unknown as { attempts: Record<string, string> }).attempts,
    );
    // The opener link is cut (both pages send Cross-Origin-Opener-Policy: same-origin): the handle
    // the page kept is a closed, empty window, and nothing in the picker is reachable through it.
    expect(attempts.document).not.toMatch(/^ok/);
    expect(attempts.location).not.toMatch(/^ok/);
    expect(attempts.click).not.toMatch(/^ok/);
    expect(attempts.closed).toBe('ok: true');
    expect(await popup.evaluate(() => window.opener)).toBeNull();

    // Nor can the page reach the picker by requests of its own: the ticket is used, and the
    // session secret it never saw; a frame is refused by the picker's headers.
    const probes = await page.evaluate(
      async (url) => {
        const out: Record<string, string> = {};
        try {
          const r = await fetch(url, { mode: 'no-cors' });
          out.fetch = `${r.type} ${r.status}`;
        } catch (e) {
          out.fetch = `refused ${(e as Error).name}`;
        }
        try {
          const r = await fetch(url);
          out.cors = `ok ${r.status}`;
        } catch (e) {
          out.cors = `refused ${(e as Error).name}`;
        }
        const frame = document.createElement('iframe');
        frame.src = url;
        document.body.append(frame);
        await new Promise((r) => setTimeout(r, 1000));
        try {
          out.frame = String(frame.contentDocument?.body?.innerHTML ?? 'no document');
        } catch (e) {
          out.frame = `refused ${(e as Error).name}`;
        }
        return out;
      },
      await page.evaluate(() => (window as unknown as { pickerUrl: string }).pickerUrl),
    );
    // (The app's CSP already stops its fetches and frames to any other origin.)
    expect(probes.fetch).toMatch(/^refused/);
    expect(probes.cors).toMatch(/^refused/);
    expect(probes.frame).not.toContain('picker-file');

    // The page's picker.wait learns only what the user does in the window: here, cancel.
    const waited = page.evaluate(
      (id) =>
        (window as unknown as { api: (m: string, p: unknown) => Promise<unknown> }).api('picker.wait', {
          id,
        }),
      await page.evaluate(() => (window as unknown as { hostileId: string }).hostileId),
    );
    await popup.getByTestId('picker-cancel').click();
    expect(await waited).toMatchObject({ ok: true, result: null });
    await page.context().close();
  });

  it.skipIf(!haveChromium)(
    'a user’s click in the picker gives the page a grant it creates a VM with',
    async () => {
      const page = await appPage();
      const popupP = page.waitForEvent('popup');
      await page.click('#choose');
      const popup = await popupP;
      // The user goes up from Downloads and back in through the breadcrumb and folder links, then
      // chooses the ISO by keyboard, as anyone could.
      await popup.getByTestId('picker-up').click();
      await popup.getByTestId('picker-dir').filter({ hasText: 'Downloads/' }).click();
      await popup.getByLabel('tiny.iso').focus();
      await popup.keyboard.press('Space');
      await popup.getByTestId('picker-use').click();
      await page.waitForFunction(() => (window as unknown as { chosen: unknown }).chosen !== null);
      const chosen = await page.evaluate(
        () => (window as unknown as { chosen: { result: { grant: string; path: string } } }).chosen,
      );
      expect(chosen.result.path).toBe(iso);
      const created = await page.evaluate(
        (grant) =>
          (window as unknown as { api: (m: string, p: unknown) => Promise<unknown> }).api('vm.create', {
            name: 'from the picker',
            iso: grant,
            disk: { kind: 'none' },
          }),
        chosen.result.grant,
      );
      expect(created).toMatchObject({
        ok: true,
        result: { name: 'from the picker', cdroms: [{ media: iso }] },
      });
      // A typed path from the same page is refused, whatever file it names.
      const typed = await page.evaluate(
        (path) =>
          (window as unknown as { api: (m: string, p: unknown) => Promise<unknown> }).api('vm.create', {
            name: 'typed',
            iso: path,
            disk: { kind: 'none' },
          }),
        iso,
      );
      expect(typed).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      await page.context().close();
    },
  );
});
