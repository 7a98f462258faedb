// The host server is transport only: it knows nothing of VMs beyond what a dispatcher tells it, so the
// engine, a fake in tests, or a remote proxy can sit behind the same sockets.
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CallerKind, FileGrants } from '../api/callers';

export type ConsoleKind = 'vnc' | 'serial';
export type { CallerKind, FileGrants };

export interface ApiDispatcher {
  /**
   * Runs one API method for a kind of caller: 'renderer' for the app's pages (cookie sockets under
   * the base path), 'user' for the CLI (`/api?token=`). Throws on failure; a HangarError keeps its
   * code on the wire.
   */
  call(method: string, params: unknown, caller: CallerKind): Promise<unknown>;
  /** Engine events to push to every API client. Returns the unsubscribe function. */
  subscribe(listener: (event: string, data: unknown) => void): () => void;
  /** Path of the VM's console UNIX socket, or null when the VM is unknown or not running. */
  consoleSocket(vmId: string, kind: ConsoleKind): string | null;
  /**
   * A libvirt domain's console for a console id from remote.console, already connecting, or null
   * when the id is none of those.
   */
  remoteConsole?(id: string, kind: ConsoleKind): (Duplex & { connecting: boolean }) | null;
  /** Present when the engine can grant files: the server then runs the file picker (picker.ts). */
  files?: FileGrants;
}

export interface HostServerOptions {
  dispatcher: ApiDispatcher;
  /** Built renderer (e.g. out/renderer). When absent or missing on disk, `/` explains how to build it. */
  staticDir?: string;
  /** 0 or absent: a free port chosen by the OS. */
  port?: number;
  /** Default: 32 random bytes as hex. A given token must be 16+ chars of [A-Za-z0-9_-]. */
  token?: string;
  /** Diagnostics (socket errors, refused requests). Silent when absent. */
  log?: (message: string) => void;
}

export interface HostServer {
  /** Open this once in a browser: it trades the token for a cookie and redirects to `basePath`. */
  url: string;
  port: number;
  token: string;
  /**
   * `/s/<random>/`, where the app, its assets and its WebSockets live and the only path the token
   * cookie is sent to. Secret like the token: never on a command line.
   */
  basePath: string;
  /** What the listening socket is bound to (always 127.0.0.1), for callers that want to prove it. */
  address(): AddressInfo;
  close(): Promise<void>;
}

/** WebSocket close codes the server uses beyond the standard ones (1000, 1001, 1009, 1011). */
export const CLOSE_CODES = {
  /** The VM is unknown or not running, so it has no console socket. */
  CONSOLE_NOT_FOUND: 4404,
  /** The console socket exists in name but connecting to it failed (QEMU gone, socket stale). */
  CONSOLE_UNREACHABLE: 4502,
  /** An API client read events too slowly; its queue outgrew the limit. */
  CLIENT_TOO_SLOW: 4429,
} as const;
