// The one Hangar window and its session's guards. The page comes from the host server (or the dev
// server), so everything here assumes it could be hostile: no navigation away, no new windows, no
// permissions, our CSP on every document.
import { BrowserWindow, session, shell, type Session } from 'electron';
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

  // The dev server page has its own origin, which the host server rightly refuses on WebSockets.
  // Only in development, and only for our own session, the console handshake presents the host
  // server's origin instead; the token is still required.
  if (setup.appOrigin !== setup.host.origin) {
    const consolePrefix = `ws://127.0.0.1:${setup.host.port}/console/`;
    ses.webRequest.onBeforeSendHeaders((details, callback) => {
      if (!details.url.startsWith(consolePrefix)) return callback({});
      callback({ requestHeaders: { ...details.requestHeaders, Origin: setup.host.origin } });
    });
  }
}

export function createMainWindow(setup: WindowSetup): BrowserWindow {
  guardSession(session.fromPartition(PARTITION), setup);
  const win = new BrowserWindow(
    windowOptions(setup.preloadPath, { port: setup.host.port, token: setup.host.token }),
  );
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
