// IPC between the window and the engine: one invoke channel for API calls, one for the native
// file dialog, one push channel for engine events. The dispatcher parses params with the shared
// zod schemas; this file only checks who is calling and turns failures into data the renderer
// rebuilds as typed errors. Every call from the window runs as the 'renderer' caller, which names
// no host file itself: it passes grants for files chosen in the dialog (pick.ts).
import { ipcMain, type BrowserWindow, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron';
import { HangarError, toErrorData } from '../../shared/errors';
import { PickPurpose } from '../../shared/requests';
import type { Dispatcher } from '../api/dispatch';
import {
  BASE_PATH_CHANNEL,
  CALL_CHANNEL,
  DROP_CHANNEL,
  EVENT_CHANNEL,
  PICK_CHANNEL,
} from '../../preload/protocol';
import { DROP_PURPOSE, dropKind, dropRefusal } from '../../shared/drop';
import { grantDropped, pickWithDialog } from './pick';
import { isTrustedSender } from './policy';

function senderOf(event: IpcMainInvokeEvent | IpcMainEvent) {
  const frame = event.senderFrame;
  return frame ? { url: frame.url, top: frame.parent === null } : null;
}

/**
 * Wires the window to the dispatcher, and answers its preload's question for the host server's base
 * path (where the console WebSockets live); returns the function that undoes it.
 */
export function connectIpc(
  win: BrowserWindow,
  dispatcher: Dispatcher,
  appOrigin: string,
  basePath: string,
): () => void {
  // Held here because win.webContents throws once the window is destroyed.
  const wc = win.webContents;
  ipcMain.on(BASE_PATH_CHANNEL, (event) => {
    // A secret like the token: a foreign frame gets null, and a sendSync must always get a value.
    event.returnValue = event.sender === wc && isTrustedSender(senderOf(event), appOrigin) ? basePath : null;
  });
  ipcMain.handle(CALL_CHANNEL, async (event, method: unknown, params: unknown) => {
    if (event.sender !== wc || !isTrustedSender(senderOf(event), appOrigin)) {
      // A foreign frame learns nothing beyond the refusal.
      throw new Error('Refused: this frame is not the Hangar window.');
    }
    if (typeof method !== 'string')
      return { ok: false, error: { code: 'INVALID_INPUT', message: 'The API method must be a string.' } };
    // The desktop app knows a dropped file's path and asks the user (DROP_CHANNEL); guessing one
    // by name, size and time is for browsers only.
    if (method === 'host.findDropped')
      return { ok: false, error: { code: 'UNSUPPORTED', message: 'Drop the file on the window instead.' } };
    try {
      return { ok: true, result: await dispatcher.call(method, params, 'renderer') };
    } catch (err) {
      return { ok: false, error: toErrorData(err) };
    }
  });
  // One dialog at a time: a page asking again while one is open gets BUSY, not a stack of dialogs.
  let picking = false;
  ipcMain.handle(PICK_CHANNEL, async (event, purpose: unknown) => {
    if (event.sender !== wc || !isTrustedSender(senderOf(event), appOrigin))
      throw new Error('Refused: this frame is not the Hangar window.');
    const parsed = PickPurpose.safeParse(purpose);
    if (!parsed.success)
      return { ok: false, error: { code: 'INVALID_INPUT', message: 'Unknown kind of file to choose.' } };
    if (picking)
      return { ok: false, error: new HangarError('BUSY', 'A file dialog is open already.').toData() };
    picking = true;
    try {
      return { ok: true, result: await pickWithDialog(win, dispatcher.files, parsed.data) };
    } catch (err) {
      return { ok: false, error: toErrorData(err) };
    } finally {
      picking = false;
    }
  });

  ipcMain.handle(DROP_CHANNEL, async (event, path: unknown) => {
    if (event.sender !== wc || !isTrustedSender(senderOf(event), appOrigin))
      throw new Error('Refused: this frame is not the Hangar window.');
    if (typeof path !== 'string' || !path.startsWith('/'))
      return { ok: false, error: { code: 'INVALID_INPUT', message: 'Drop a file from this computer.' } };
    const kind = dropKind(path.slice(path.lastIndexOf('/') + 1));
    if (!kind) return { ok: false, error: new HangarError('INVALID_INPUT', dropRefusal(path)).toData() };
    if (picking)
      return { ok: false, error: new HangarError('BUSY', 'A file dialog is open already.').toData() };
    picking = true;
    try {
      return { ok: true, result: await grantDropped(win, dispatcher.files, path, DROP_PURPOSE[kind]) };
    } catch (err) {
      return { ok: false, error: toErrorData(err) };
    } finally {
      picking = false;
    }
  });

  // Sent to this window's top frame only, never broadcast to other web contents.
  const unsubscribe = dispatcher.subscribe((event, data) => {
    if (!wc.isDestroyed()) wc.send(EVENT_CHANNEL, event, data);
  });

  return () => {
    unsubscribe();
    ipcMain.removeHandler(CALL_CHANNEL);
    ipcMain.removeHandler(PICK_CHANNEL);
    ipcMain.removeHandler(DROP_CHANNEL);
    ipcMain.removeAllListeners(BASE_PATH_CHANNEL);
  };
}
