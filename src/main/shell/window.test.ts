// createMainWindow against stand-ins for BrowserWindow, session and shell: checks that every guard
// is installed and decides as policy.ts says, without an Electron binary.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Host } from './host';

type Fn = (...args: never[]) => unknown;
const state = vi.hoisted(() => ({
  session: {} as Record<string, Fn>,
  windows: [] as { options: unknown; on: Map<string, Fn>; openHandler?: Fn; loaded?: string }[],
  opened: [] as string[],
}));

vi.mock('electron', () => {
  const ses = {
    setPermissionRequestHandler: (h: Fn) => (state.session.request = h),
    setPermissionCheckHandler: (h: Fn) => (state.session.check = h),
    setDevicePermissionHandler: (h: Fn) => (state.session.device = h),
    webRequest: {
      onHeadersReceived: (h: Fn) => (state.session.headers = h),
      onBeforeSendHeaders: (h: Fn) => (state.session.beforeSend = h),
    },
  };
  class BrowserWindow {
    rec: (typeof state.windows)[number];
    webContents: unknown;
    constructor(options: unknown) {
      this.rec = { options, on: new Map() };
      state.windows.push(this.rec);
      const rec = this.rec;
      this.webContents = {
        on: (name: string, h: Fn) => rec.on.set(name, h),
        setWindowOpenHandler: (h: Fn) => (rec.openHandler = h),
      };
    }
    once() {}
    loadURL(url: string) {
      this.rec.loaded = url;
      return Promise.resolve();
    }
  }
  return {
    app: { getAppPath: () => '/opt/hangar' },
    BrowserWindow,
    session: { fromPartition: () => ses },
    shell: { openExternal: async (url: string) => void state.opened.push(url) },
  };
});

const { createMainWindow } = await import('./window');

const TOKEN = 'abcdefABCDEF0123456789_-';
const BASE = '/s/AbCdEfGhIjKlMnOpQrStUvWxYz012345/';
const host = {
  origin: 'http://127.0.0.1:41234',
  port: 41234,
  token: TOKEN,
  basePath: BASE,
  url: `http://127.0.0.1:41234${BASE}?token=${TOKEN}`,
} as Host;

function open(appOrigin = host.origin, startUrl = host.url) {
  createMainWindow({ host, preloadPath: '/out/preload/index.cjs', startUrl, appOrigin });
  return state.windows.at(-1)!;
}

function navigate(handler: Fn | undefined, url: string): boolean {
  let prevented = false;
  (handler as (e: unknown) => void)({ url, preventDefault: () => (prevented = true) });
  return prevented;
}

beforeEach(() => {
  state.session = {};
  state.windows = [];
  state.opened = [];
});

describe('createMainWindow', () => {
  it('loads the start URL in a sandboxed window with the port flag and no secret', () => {
    const w = open();
    expect(w.loaded).toBe(host.url);
    expect(w.options).toMatchObject({
      webPreferences: {
        sandbox: true,
        contextIsolation: true,
        preload: '/out/preload/index.cjs',
        additionalArguments: ['--hangar-port=41234'],
      },
    });
    // additionalArguments land on the renderer's command line, which any local user can read.
    expect(JSON.stringify(w.options)).not.toContain(TOKEN);
  });

  it('shows the app icon from resources/ under the app path', () => {
    expect(open().options).toMatchObject({ icon: '/opt/hangar/resources/icons/512x512.png' });
    // And the file is there in this checkout: a 512 x 512 PNG (width and height in its IHDR).
    const png = readFileSync(fileURLToPath(new URL('../../../resources/icons/512x512.png', import.meta.url)));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
  });

  it('denies every permission request and check', () => {
    open();
    let granted: boolean | undefined;
    (state.session.request as (...a: unknown[]) => void)({}, 'media', (ok: boolean) => (granted = ok));
    expect(granted).toBe(false);
    expect((state.session.check as () => boolean)()).toBe(false);
    expect((state.session.device as () => boolean)()).toBe(false);
  });

  it('adds the CSP to documents only', () => {
    open();
    const answer = (resourceType: string) => {
      let out: unknown;
      (state.session.headers as (d: unknown, cb: (r: unknown) => void) => void)(
        { resourceType, responseHeaders: { 'Content-Security-Policy': ["default-src 'self'"] } },
        (r) => (out = r),
      );
      return out as { responseHeaders?: Record<string, string[]> };
    };
    const doc = answer('mainFrame').responseHeaders?.['Content-Security-Policy'];
    expect(doc).toHaveLength(2);
    expect(doc?.[1]).toContain("connect-src 'self' ws://127.0.0.1:41234");
    expect(answer('script')).toEqual({});
  });

  it('keeps navigation and redirects on the app origin', () => {
    const w = open();
    for (const name of ['will-navigate', 'will-redirect']) {
      expect(navigate(w.on.get(name), `${host.origin}/#/new`)).toBe(false);
      expect(navigate(w.on.get(name), 'https://example.com/')).toBe(true);
      expect(navigate(w.on.get(name), 'file:///etc/passwd')).toBe(true);
    }
  });

  it('opens no windows; http(s) links go to the system browser', () => {
    const w = open();
    const openWith = (url: string) => (w.openHandler as (d: { url: string }) => unknown)({ url });
    expect(openWith('https://www.qemu.org/')).toEqual({ action: 'deny' });
    expect(openWith('file:///etc/passwd')).toEqual({ action: 'deny' });
    expect(openWith(`${host.origin}/`)).toEqual({ action: 'deny' });
    expect(state.opened).toEqual(['https://www.qemu.org/']);
  });

  it('gives the console handshake the host origin and token cookie only for a dev server page', () => {
    open();
    expect(state.session.beforeSend).toBeUndefined();
    open('http://localhost:5173', 'http://localhost:5173/');
    const send = (
      url: string,
      requestHeaders: Record<string, string> = { Origin: 'http://localhost:5173' },
    ) => {
      let out: unknown;
      (state.session.beforeSend as (d: unknown, cb: (r: unknown) => void) => void)(
        { url, requestHeaders },
        (r) => (out = r),
      );
      return out;
    };
    expect(send(`ws://127.0.0.1:41234${BASE}console/vnc/abc123def456`)).toEqual({
      requestHeaders: { Origin: host.origin, Cookie: `hangar_token=${TOKEN}` },
    });
    expect(
      send(`ws://127.0.0.1:41234${BASE}console/serial/abc123def456`, {
        origin: 'http://localhost:5173',
        cookie: 'other=1',
        'User-Agent': 'x',
      }),
    ).toEqual({
      requestHeaders: { 'User-Agent': 'x', Origin: host.origin, Cookie: `other=1; hangar_token=${TOKEN}` },
    });
    expect(send(`ws://127.0.0.1:41234${BASE}api`)).toEqual({});
    // Only under the base: the server has no console anywhere else, so the token goes nowhere else.
    expect(send('ws://127.0.0.1:41234/console/vnc/abc123def456')).toEqual({});
    expect(send('http://localhost:5173/src/main.tsx')).toEqual({});
  });
});
