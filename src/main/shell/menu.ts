// The application menu. DevTools only in unpackaged builds: in a shipped app they would hand the
// page's full power (and the console token) to anyone at the keyboard with no need for it.
import { app, dialog, Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';

// The renderer routes on the hash (#/new is the wizard); setting it fires hashchange, so the app
// switches views without a reload that would drop open console sessions.
const OPEN_WIZARD = "location.hash = '#/new'";

export function buildMenu(getWindow: () => BrowserWindow | null): Menu {
  const view: MenuItemConstructorOptions[] = [{ role: 'reload' }];
  if (!app.isPackaged) view.push({ role: 'toggleDevTools' });
  view.push(
    { type: 'separator' },
    { role: 'resetZoom' },
    { role: 'zoomIn' },
    { role: 'zoomOut' },
    { type: 'separator' },
    { role: 'togglefullscreen' },
  );

  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [
        {
          label: 'New VM…',
          accelerator: 'CmdOrCtrl+N',
          click: () => {
            const win = getWindow();
            if (win && !win.isDestroyed()) void win.webContents.executeJavaScript(OPEN_WIZARD);
          },
        },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    // Without an Edit menu, copy and paste shortcuts do nothing in text fields on macOS.
    { role: 'editMenu' },
    { label: 'View', submenu: view },
    {
      label: 'Help',
      submenu: [
        {
          label: 'About Hangar',
          click: () => {
            const win = getWindow();
            const options = {
              type: 'info' as const,
              title: 'About Hangar',
              message: `Hangar ${app.getVersion()}`,
              detail:
                'Local virtualization for developers and testers: QEMU guests with instant rollback, ' +
                `consoles and a CLI.\n\nElectron ${process.versions.electron}, Chromium ${process.versions.chrome}, ` +
                `Node ${process.versions.node}.`,
            };
            void (win ? dialog.showMessageBox(win, options) : dialog.showMessageBox(options));
          },
        },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
