// The Electron shell: one instance, one window, the engine and its host server in this process.
// It stays thin; the engine lives in src/main/engine and the window/IPC/menu code in ./shell.
import { join } from 'node:path';
import { app, dialog, Menu, type BrowserWindow } from 'electron';
import { toErrorData } from '../shared/errors';
import { openHost, type Host } from './shell/host';
import { connectIpc } from './shell/ipc';
import { buildMenu } from './shell/menu';
import { createMainWindow } from './shell/window';

/** Quitting must not hang on a stuck VM detach; VMs survive either way. */
const STOP_TIMEOUT_MS = 5000;

let win: BrowserWindow | null = null;
let host: Host | null = null;
let disconnect: (() => void) | null = null;

async function start(): Promise<void> {
  host = await openHost({ staticDir: join(import.meta.dirname, '..', 'renderer') });
  // electron-vite dev serves the renderer with hot reload; a packaged app never trusts that variable.
  const devUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
  // Loaded from the host server rather than file://: the console WebSockets then come from the
  // server's own origin, which its Origin check accepts, and the page is the same one the browser gets.
  const appOrigin = devUrl ? new URL(devUrl).origin : host.origin;
  Menu.setApplicationMenu(buildMenu(() => win));
  win = createMainWindow({
    host,
    // CommonJS: Electron loads sandboxed preloads as classic scripts, never as ES modules.
    preloadPath: join(import.meta.dirname, '..', 'preload', 'index.cjs'),
    startUrl: devUrl ?? host.url,
    appOrigin,
  });
  disconnect = connectIpc(win, host.dispatcher, appOrigin, host.basePath);
  win.on('closed', () => {
    win = null;
  });
}

async function stop(h: Host): Promise<void> {
  disconnect?.();
  disconnect = null;
  const timeout = new Promise<void>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref());
  await Promise.race([h.stop(), timeout]).catch((err: unknown) =>
    console.error(`Hangar: stopping the engine failed: ${String(err)}`),
  );
}

function fail(err: unknown): void {
  const { code, message } = toErrorData(err);
  const hint =
    code === 'BUSY' ? '\n\nQuit the other Hangar (or stop `hangar serve`) and start Hangar again.' : '';
  dialog.showErrorBox('Hangar could not start', `${message}${hint}`);
  const h = host;
  host = null;
  void (h ? stop(h) : Promise.resolve()).finally(() => app.exit(1));
}

if (!app.requestSingleInstanceLock()) {
  // The first instance owns the engine; it raises its window on 'second-instance'.
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!win) return;
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  // The engine lives in this process, so there is no windowless state worth keeping, on macOS too.
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', (e) => {
    if (!host) return;
    e.preventDefault();
    const h = host;
    host = null;
    // VMs are detached processes: closing the engine leaves them running for the next start.
    void stop(h).finally(() => app.quit());
  });
  // Ctrl-C in the terminal that ran `npm start`: stop cleanly instead of dying with the lock held.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
  app.whenReady().then(start).catch(fail);
}
