// The desktop app's file chooser: Electron's native dialog, run by main, so the page (untrusted,
// like every renderer here) never names a host file itself. What the user picks is checked by the
// host-path policy and granted (engine/policy/grants.ts); the page gets the grant reference, plus
// the name and path to show. A disk built on other files is granted only once the user has
// confirmed that chain in a native message box: a checkbox in the page would be the page's word.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { dialog, type BrowserWindow, type FileFilter } from 'electron';
import { HangarError } from '../../shared/errors';
import type { PickedFile, PickPurpose } from '../../shared/requests';
import type { FileGrants } from '../api/callers';

const ALL: FileFilter = { name: 'All files', extensions: ['*'] };

export const DIALOG_FILTERS: Readonly<Record<PickPurpose, FileFilter[]>> = {
  iso: [{ name: 'ISO images', extensions: ['iso'] }, ALL],
  disk: [{ name: 'Disk images (qcow2, raw)', extensions: ['qcow2', 'img', 'raw'] }, ALL],
  // Kernels and initrds rarely have a telling extension (vmlinuz-6.1.0-13-amd64).
  kernel: [ALL],
  initrd: [ALL, { name: 'Initrd images', extensions: ['img', 'cpio', 'gz'] }],
  file: [ALL],
  folder: [],
};

const TITLES: Readonly<Record<PickPurpose, string>> = {
  iso: 'Choose an ISO image',
  disk: 'Choose a disk image',
  kernel: 'Choose a kernel',
  initrd: 'Choose an initrd',
  file: 'Choose a file',
  folder: 'Choose a folder to share',
};

/** Shows the dialog; null when the user cancels (at the file or at the chain). */
export async function pickWithDialog(
  win: BrowserWindow,
  files: FileGrants,
  purpose: PickPurpose,
): Promise<PickedFile | null> {
  const home = files.home();
  const downloads = join(home, 'Downloads');
  const chosen = await dialog.showOpenDialog(win, {
    title: TITLES[purpose],
    defaultPath: existsSync(downloads) ? downloads : home,
    properties: [purpose === 'folder' ? 'openDirectory' : 'openFile', 'dontAddToRecent'],
    filters: DIALOG_FILTERS[purpose],
  });
  const path = chosen.canceled ? undefined : chosen.filePaths[0];
  if (!path) return null;
  const first = await files.grant(path, purpose);
  if (first.ok) return first.file;
  const { response } = await dialog.showMessageBox(win, {
    type: 'warning',
    title: TITLES[purpose],
    message: `${path} is built on other files`,
    detail:
      'A VM using this image reads these files too, nearest first:\n\n' +
      first.chain.map((l) => `${l.path} (${l.format})`).join('\n') +
      '\n\nUse it only if you trust every one of them.',
    buttons: ['Cancel', 'I trust these files'],
    defaultId: 0,
    cancelId: 0,
    noLink: true,
  });
  if (response !== 1) return null;
  const confirmed = await files.grant(
    path,
    purpose,
    first.chain.map((l) => l.path),
  );
  if (!confirmed.ok)
    throw new HangarError(
      'CONFLICT',
      `${path} changed while you confirmed its backing files; choose it again.`,
      { path },
    );
  return confirmed.file;
}

/**
 * A file dropped on the window: the preload read its path from the File (webUtils), but the page
 * could have sent any path down that channel, so main asks the user in a native box before
 * granting it, as the dialog would have.
 */
export async function grantDropped(
  win: BrowserWindow,
  files: FileGrants,
  path: string,
  purpose: PickPurpose,
): Promise<PickedFile | null> {
  const { response } = await dialog.showMessageBox(win, {
    type: 'question',
    title: 'Use the dropped file?',
    message: `Use ${path.slice(path.lastIndexOf('/') + 1)} in Hangar?`,
    detail: path,
    buttons: ['Cancel', 'Use it'],
    // Cancel on Enter: the page can raise this box at any moment, so a key already on its way
    // must not say yes.
    defaultId: 0,
    cancelId: 0,
    noLink: true,
  });
  if (response !== 1) return null;
  const outcome = await files.grant(path, purpose);
  if (!outcome.ok)
    throw new HangarError(
      'CONFLICT',
      `${path} is built on other files: choose it with Choose… instead, where you can confirm them.`,
      { path },
    );
  return outcome.file;
}
