// What main and the preload agree on: the IPC channel names, and how main tells the preload the
// host server's port (as a renderer command-line flag, the one input a sandboxed preload gets from
// main synchronously). Only the port: a process's command line is readable by every local user
// (/proc/PID/cmdline), so no secret may travel there. The server's base path (`/s/<secret>/`,
// where its console WebSockets live) is such a secret, so the preload asks main for it over IPC.
// The console WebSockets need no token in their URL, because the page comes from the host server,
// which set its HttpOnly token cookie (scoped to the base path) on the first load, and the browser
// sends that cookie with the handshake. Pure, so both sides and the unit tests import it.
import { isBasePath } from '../shared/base-path';

export const CALL_CHANNEL = 'hangar:call';
export const EVENT_CHANNEL = 'hangar:event';
/** The native file dialog (main's shell/pick.ts): answers a grant for the file the user chose. */
export const PICK_CHANNEL = 'hangar:pick-file';
/** A file dropped on the window, by the path the preload read from it; main confirms with the user. */
export const DROP_CHANNEL = 'hangar:drop-file';
/** Synchronous (sendSync): the preload's consoleUrl() must answer at once. Main answers our page only. */
export const BASE_PATH_CHANNEL = 'hangar:base-path';

export interface ConsoleEndpoint {
  port: number;
}

export type ConsoleKind = 'vnc' | 'serial';

const PORT_FLAG = '--hangar-port=';
const VM_ID = /^[a-z0-9]{12}$/;

function isPort(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 65535;
}

/** For webPreferences.additionalArguments. */
export function endpointArgs(endpoint: ConsoleEndpoint): string[] {
  if (!isPort(endpoint.port)) throw new Error('The host server port is malformed.');
  return [`${PORT_FLAG}${endpoint.port}`];
}

/** The endpoint from the renderer's argv, or null when main gave none (or a malformed one). */
export function parseEndpointArgs(argv: readonly string[]): ConsoleEndpoint | null {
  const portText = argv.find((a) => a.startsWith(PORT_FLAG))?.slice(PORT_FLAG.length);
  if (portText === undefined || !/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  return isPort(port) ? { port } : null;
}

/**
 * The console bridge's WebSocket URL. It carries no token: the handshake is authenticated by the
 * server's cookie (and, for a dev server page, by the header main adds). The checks keep page input
 * out of the path.
 */
export function consoleUrl(
  endpoint: ConsoleEndpoint | null,
  basePath: unknown,
  kind: unknown,
  id: unknown,
): string {
  if (endpoint === null) throw new Error('Hangar: the console endpoint was not passed to this window.');
  if (!isBasePath(basePath)) throw new Error('Hangar: main gave this window no console base path.');
  if (kind !== 'vnc' && kind !== 'serial') throw new Error(`Hangar: unknown console kind "${String(kind)}".`);
  if (typeof id !== 'string' || !VM_ID.test(id)) throw new Error('Hangar: a VM id is 12 characters a-z 0-9.');
  return `ws://127.0.0.1:${endpoint.port}${basePath}console/${kind}/${id}`;
}
