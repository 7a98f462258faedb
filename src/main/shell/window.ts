// The one Hangar window and its session's guards. The page comes from the host server (or the dev
// server), so everything here assumes it could be hostile: no navigation away, no new windows, no
// permissions, our CSP on every document.
import { join } from 'node:path';
import { app, BrowserWindow, session, shell, type Session } from 'electron';
import { TOKEN_COOKIE } from '../server/security';
import type { Host } from './host';
import { PARTITION, contentSecurityPolicy, externalUrl, isAppUrl, windowOptions, withCsp } from './policy';

export interface WindowSetup {
  host: Host;
  preloadPath: string;
  /** What to load first: the host server's token URL, or the dev server's URL. */
  startUrl: string;
  /** The origin the page lives on (host server, or dev server in development). */
  appOrigin: string;
}

function guardSession(ses: Session, setup: WindowSetup): void {
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);

  const csp = contentSecurityPolicy(setup.host.port);
  ses.webRequest.onHeadersReceived((details, callback) => {
    const isDocument = details.resourceType === 'mainFrame' || details.resourceType === 'subFrame';
    callback(isDocument ? { responseHeaders: withCsp(details.responseHeaders, csp) } : {});
  });

  // The dev server page has its own origin, which the host server rightly refuses on WebSockets,
  // and never loaded the token URL, so holds no token cookie. Only in development, and only for our
  // own session, main gives the console handshake the host server's origin and the token (as the
  // cookie, never in a URL or on a command line).
  if (setup.appOrigin !== setup.host.origin) {
    const consolePrefix = `ws://127.0.0.1:${setup.host.port}${setup.host.basePath}console/`;
    const tokenPair = `${TOKEN_COOKIE}=${setup.host.token}`;
    ses.webRequest.onBeforeSendHeaders((details, callback) => {
      if (!details.url.startsWith(consolePrefix)) return callback({});
      const headers: Record<string, string> = {};
      const cookies: string[] = [];
      for (const [name, value] of Object.entries(details.requestHeaders)) {
        const lower = name.toLowerCase();
        if (lower === 'cookie') cookies.push(value);
        else if (lower !== 'origin') headers[name] = value;
      }
      cookies.push(tokenPair);
      callback({ requestHeaders: { ...headers, Origin: setup.host.origin, Cookie: cookies.join('; ') } });
    });
  }
}

/**
 * The window's icon (title bar, task switcher). getAppPath() is the folder with package.json,
 * both for `electron <checkout>` and inside a package, so resources/ is found in either.
 */
export function iconPath(): string {
  return join(app.getAppPath(), 'resources', 'icons', '512x512.png');
}

export function createMainWindow(setup: WindowSetup): BrowserWindow {
  guardSession(session.fromPartition(PARTITION), setup);
  const win = new BrowserWindow({
    // The port only: the renderer's command line is public to local users, so the token stays out.
    ...windowOptions(setup.preloadPath, { port: setup.host.port }),
    icon: iconPath(),
  });
  const wc = win.webContents;

  const refuseForeign = (e: { url: string; preventDefault(): void }) => {
    if (!isAppUrl(e.url, setup.appOrigin)) e.preventDefault();
  };
  wc.on('will-navigate', refuseForeign);
  wc.on('will-redirect', refuseForeign);
  wc.setWindowOpenHandler(({ url }) => {
    // Links out (docs, issue tracker) go to the user's browser, never into a window of ours.
    const external = externalUrl(url);
    if (external !== null && !isAppUrl(external, setup.appOrigin)) void shell.openExternal(external);
    return { action: 'deny' };
  });

  win.once('ready-to-show', () => win.show());
  win
    .loadURL(setup.startUrl)
    .catch((err: unknown) => console.error(`Hangar: loading the UI failed: ${String(err)}`));
  return win;
}
