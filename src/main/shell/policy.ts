// The shell's security decisions as pure functions, so unit tests pin them without Electron: window
// options, the CSP, where the window may navigate, which frames may call the API, and which links
// may leave for the system browser. The page is treated as untrusted throughout.
import type { BrowserWindowConstructorOptions } from 'electron';
import { endpointArgs, type ConsoleEndpoint } from '../../preload/protocol';

/** In-memory (no `persist:` prefix): the token cookie and cache never touch the disk. */
export const PARTITION = 'hangar';

export function windowOptions(
  preloadPath: string,
  endpoint: ConsoleEndpoint,
): BrowserWindowConstructorOptions {
  return {
    title: 'Hangar',
    width: 1280,
    height: 820,
    minWidth: 760,
    minHeight: 520,
    // Shown on ready-to-show, so the user never sees an empty white frame.
    show: false,
    backgroundColor: '#14171b',
    webPreferences: {
      preload: preloadPath,
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
      additionalArguments: endpointArgs(endpoint),
    },
  };
}

/**
 * Added as a response header on top of whatever the page brings (all policies are enforced), so the
 * shell's limits hold even for a dev server page, and frame-ancestors works (a meta tag ignores it).
 * Styles allow inline because React style props and xterm.js set them; scripts never do.
 */
export function contentSecurityPolicy(port: number): string {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`Bad port ${port}`);
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ws://127.0.0.1:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Response headers with our CSP appended to any the server sent (header names are case-insensitive). */
export function withCsp(
  headers: Record<string, string[]> | undefined,
  csp: string,
): Record<string, string[]> {
  const out: Record<string, string[]> = { ...headers };
  const key = Object.keys(out).find((k) => k.toLowerCase() === 'content-security-policy');
  if (key === undefined) out['Content-Security-Policy'] = [csp];
  else out[key] = [...(out[key] ?? []), csp];
  return out;
}

function originOf(url: string | undefined | null): string | null {
  if (typeof url !== 'string') return null;
  try {
    const u = new URL(url);
    // file:, data:, about: and the like have an opaque origin ("null"): never ours.
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/** Navigation and redirects stay on the app's own origin; everything else is refused. */
export function isAppUrl(url: string, appOrigin: string): boolean {
  const o = originOf(url);
  return o !== null && o === originOf(appOrigin);
}

export interface SenderFrame {
  url: string;
  /** True for the top-level frame; subframes never get the API. */
  top: boolean;
}

/** Whether an IPC call comes from our page's top frame. */
export function isTrustedSender(frame: SenderFrame | null | undefined, appOrigin: string): boolean {
  return frame != null && frame.top && isAppUrl(frame.url, appOrigin);
}

/** The URL to hand to the system browser (http/https only), or null to drop the request. */
export function externalUrl(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}
