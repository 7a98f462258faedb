// The Electron shell. It stays thin: the engine lives in src/main/engine and never imports electron.
// The hardened window, IPC and menu arrive with the desktop app issue; until then the shell only
// says so, so that `npm start` never fails where the Electron binary exists.
import { app, dialog } from 'electron';

app.whenReady().then(async () => {
  await dialog.showMessageBox({
    type: 'info',
    message: 'Hangar',
    detail: 'The Hangar window is not built yet. Use the `hangar` CLI (npx hangar --help) meanwhile.',
  });
  app.quit();
});
