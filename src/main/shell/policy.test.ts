import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  externalUrl,
  isAppUrl,
  isTrustedSender,
  PARTITION,
  windowOptions,
  withCsp,
} from './policy';

const ORIGIN = 'http://127.0.0.1:41234';
const TOKEN = 'abcdefABCDEF0123456789_-';

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/);
      return [name, values];
    }),
  );
}

describe('windowOptions', () => {
  const opts = windowOptions('/app/out/preload/index.cjs', { port: 41234 });
  const web = opts.webPreferences ?? {};

  it('isolates and sandboxes the page with no Node access', () => {
    expect(web.contextIsolation).toBe(true);
    expect(web.sandbox).toBe(true);
    expect(web.nodeIntegration).toBe(false);
    expect(web.nodeIntegrationInWorker).toBe(false);
    expect(web.nodeIntegrationInSubFrames).toBe(false);
    expect(web.webSecurity).toBe(true);
    expect(web.allowRunningInsecureContent).toBe(false);
    expect(web.webviewTag).toBe(false);
  });

  it('uses the given preload and an in-memory session', () => {
    expect(web.preload).toBe('/app/out/preload/index.cjs');
    expect(web.partition).toBe(PARTITION);
    expect(PARTITION.startsWith('persist:')).toBe(false);
  });

  it('passes only the port to the preload: the renderer command line is readable by every local user', () => {
    expect(web.additionalArguments).toEqual(['--hangar-port=41234']);
    // Whatever else a caller hands over, no secret reaches the renderer's argv.
    const leaky = windowOptions('/p', { port: 41234, token: TOKEN } as { port: number });
    expect(JSON.stringify(leaky)).not.toContain(TOKEN);
  });

  it('refuses a malformed endpoint rather than passing it on', () => {
    expect(() => windowOptions('/p', { port: 0 })).toThrow();
    expect(() => windowOptions('/p', { port: 65536 })).toThrow();
    expect(() => windowOptions('/p', { port: 1.5 })).toThrow();
  });

  it('pins every window option (a change here is a security decision)', () => {
    expect(opts).toEqual({
      title: 'Hangar',
      width: 1280,
      height: 820,
      minWidth: 760,
      minHeight: 520,
      show: false,
      backgroundColor: '#14171b',
      webPreferences: {
        preload: '/app/out/preload/index.cjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        spellcheck: false,
        partition: PARTITION,
        additionalArguments: ['--hangar-port=41234'],
      },
    });
  });
});

describe('contentSecurityPolicy', () => {
  const csp = contentSecurityPolicy(41234);
  const d = directives(csp);

  it('defaults to self and forbids eval and inline scripts', () => {
    expect(d.get('default-src')).toEqual(["'self'"]);
    expect(d.get('script-src')).toEqual(["'self'"]);
    expect(csp).not.toContain("'unsafe-eval'");
    expect(csp).not.toContain("'wasm-unsafe-eval'");
  });

  it('cannot be framed, has no plugins, base or form targets', () => {
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'none'"]);
    expect(d.get('form-action')).toEqual(["'none'"]);
  });

  it('connects only to itself and this run’s console bridge', () => {
    expect(d.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:41234']);
    expect(csp).not.toMatch(/\*/);
  });

  it('is exactly this policy', () => {
    expect(csp).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data: blob:; connect-src 'self' ws://127.0.0.1:41234; object-src 'none'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('refuses a port that is not one', () => {
    expect(() => contentSecurityPolicy(0)).toThrow();
    expect(() => contentSecurityPolicy(65536)).toThrow();
    expect(() => contentSecurityPolicy(1.5)).toThrow();
  });
});

describe('withCsp', () => {
  it('adds the header when the response had none', () => {
    expect(withCsp({ 'Content-Type': ['text/html'] }, 'x')).toEqual({
      'Content-Type': ['text/html'],
      'Content-Security-Policy': ['x'],
    });
    expect(withCsp(undefined, 'x')).toEqual({ 'Content-Security-Policy': ['x'] });
  });

  it('keeps the server’s policy and appends ours, whatever the header’s case', () => {
    const headers = { 'content-security-policy': ["default-src 'self'"] };
    expect(withCsp(headers, 'x')).toEqual({ 'content-security-policy': ["default-src 'self'", 'x'] });
    expect(headers['content-security-policy']).toHaveLength(1);
  });
});

describe('isAppUrl (navigation)', () => {
  it('allows the app origin only', () => {
    expect(isAppUrl(`${ORIGIN}/`, ORIGIN)).toBe(true);
    expect(isAppUrl(`${ORIGIN}/#/new`, ORIGIN)).toBe(true);
    expect(isAppUrl(`${ORIGIN}/?token=x`, ORIGIN)).toBe(true);
  });

  it('refuses other ports, hosts, schemes and lookalikes', () => {
    for (const url of [
      'http://127.0.0.1:41235/',
      'http://localhost:41234/',
      'https://127.0.0.1:41234/',
      'http://127.0.0.1:41234.evil.example/',
      'http://user@evil.example/?http://127.0.0.1:41234',
      'https://example.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,hi',
      'about:blank',
      'not a url',
      '',
    ])
      expect(isAppUrl(url, ORIGIN), url).toBe(false);
  });

  it('never treats opaque origins as equal', () => {
    expect(isAppUrl('file:///a/index.html', 'file:///a/index.html')).toBe(false);
  });
});

describe('isTrustedSender (IPC)', () => {
  it('accepts the top frame of our page', () => {
    expect(isTrustedSender({ url: `${ORIGIN}/#/vm/abc`, top: true }, ORIGIN)).toBe(true);
  });

  it('refuses subframes, other origins and missing frames', () => {
    expect(isTrustedSender({ url: `${ORIGIN}/`, top: false }, ORIGIN)).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', top: true }, ORIGIN)).toBe(false);
    expect(isTrustedSender({ url: 'http://127.0.0.1:1/', top: true }, ORIGIN)).toBe(false);
    expect(isTrustedSender({ url: 'file:///tmp/x.html', top: true }, ORIGIN)).toBe(false);
    expect(isTrustedSender(null, ORIGIN)).toBe(false);
    expect(isTrustedSender(undefined, ORIGIN)).toBe(false);
  });
});

describe('externalUrl', () => {
  it('passes http and https links to the system browser', () => {
    expect(externalUrl('https://www.qemu.org/docs/')).toBe('https://www.qemu.org/docs/');
    expect(externalUrl('http://example.com')).toBe('http://example.com/');
  });

  it('drops every other scheme', () => {
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'x', ''])
      expect(externalUrl(url), url).toBeNull();
  });
});
