// What main and the preload agree on: the IPC channel names, and how main hands the host server's
// port and token to the preload (as renderer command-line flags, the one input a sandboxed preload
// gets from main synchronously). Pure, so both sides and the unit tests import it.

export const CALL_CHANNEL = 'hangar:call';
export const EVENT_CHANNEL = 'hangar:event';

export interface ConsoleEndpoint {
  port: number;
  token: string;
}

export type ConsoleKind = 'vnc' | 'serial';

const PORT_FLAG = '--hangar-port=';
const TOKEN_FLAG = '--hangar-token=';
// Same shapes the host server accepts, so a value it would refuse never reaches a URL.
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,256}$/;
const VM_ID = /^[a-z0-9]{12}$/;

function isPort(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 65535;
}

/** For webPreferences.additionalArguments. */
export function endpointArgs(endpoint: ConsoleEndpoint): string[] {
  if (!isPort(endpoint.port) || !TOKEN_SHAPE.test(endpoint.token))
    throw new Error('The host server port or token is malformed.');
  return [`${PORT_FLAG}${endpoint.port}`, `${TOKEN_FLAG}${endpoint.token}`];
}

/** The endpoint from the renderer's argv, or null when main gave none (or a malformed one). */
export function parseEndpointArgs(argv: readonly string[]): ConsoleEndpoint | null {
  const value = (flag: string) => argv.find((a) => a.startsWith(flag))?.slice(flag.length);
  const portText = value(PORT_FLAG);
  const token = value(TOKEN_FLAG);
  if (portText === undefined || token === undefined || !/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  return isPort(port) && TOKEN_SHAPE.test(token) ? { port, token } : null;
}

/**
 * The console bridge's WebSocket URL. The token rides in the query because the page may not hold
 * the server's cookie (a dev server origin); the checks keep page input out of the path.
 */
export function consoleUrl(endpoint: ConsoleEndpoint | null, kind: unknown, id: unknown): string {
  if (endpoint === null) throw new Error('Hangar: the console endpoint was not passed to this window.');
  if (kind !== 'vnc' && kind !== 'serial') throw new Error(`Hangar: unknown console kind "${String(kind)}".`);
  if (typeof id !== 'string' || !VM_ID.test(id)) throw new Error('Hangar: a VM id is 12 characters a-z 0-9.');
  return `ws://127.0.0.1:${endpoint.port}/console/${kind}/${id}?token=${endpoint.token}`;
}
