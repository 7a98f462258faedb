// The only bridge between the untrusted page and main: five functions on window.hangar. The page
// never sees ipcRenderer or an IPC event object (whose `sender` is ipcRenderer), so it can reach no
// channel but these. Main validates the sender and parses every payload; this stays thin.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { PreloadApi } from '../shared/preload-api';
import {
  BASE_PATH_CHANNEL,
  CALL_CHANNEL,
  DROP_CHANNEL,
  EVENT_CHANNEL,
  PICK_CHANNEL,
  consoleUrl,
  parseEndpointArgs,
} from './protocol';

// Sandboxed preloads get a partial `process` that still has argv, where main put the endpoint.
const endpoint = parseEndpointArgs(process.argv);
// The server's secret base path cannot stand in argv, so it is asked of main, once, when the first
// console opens (by then this document is surely committed, and main checks it is ours).
let basePath: unknown = null;

const api: PreloadApi = {
  call(method, params) {
    if (typeof method !== 'string') return Promise.reject(new TypeError('method must be a string'));
    return ipcRenderer.invoke(CALL_CHANNEL, method, params);
  },
  onEvent(listener) {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const forward = (_e: IpcRendererEvent, event: string, data: unknown) => listener(event, data);
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
  pickFile(purpose) {
    // Main shows its native dialog and answers a grant for the file chosen, or null.
    if (typeof purpose !== 'string') return Promise.reject(new TypeError('purpose must be a string'));
    return ipcRenderer.invoke(PICK_CHANNEL, purpose);
  },
  dropFile(file) {
    // Electron knows a dropped File's path; the page never sees it before main's confirmation.
    if (!(file instanceof File)) return Promise.reject(new TypeError('file must be a File'));
    return ipcRenderer.invoke(DROP_CHANNEL, webUtils.getPathForFile(file));
  },
  consoleUrl(kind, id) {
    if (basePath === null) basePath = ipcRenderer.sendSync(BASE_PATH_CHANNEL) as unknown;
    return consoleUrl(endpoint, basePath, kind, id);
  },
};

contextBridge.exposeInMainWorld('hangar', api);
