// Shapes of the QMP wire protocol and of the client's options and events.

export type QmpState = 'idle' | 'connecting' | 'negotiating' | 'ready' | 'closing' | 'closed';

export interface QmpVersionTriple {
  major: number;
  minor: number;
  micro: number;
}

/** The `QMP` member of the greeting QEMU sends first on every connection. */
export interface QmpGreeting {
  version: { qemu: QmpVersionTriple; package: string };
  capabilities: string[];
}

export interface QmpEvent<D = Record<string, unknown>> {
  event: string;
  data: D;
  timestamp: { seconds: number; microseconds: number };
}

/**
 * Why a connection ended. `requested`: close() was called; `eof`: QEMU closed the socket (quit, crash);
 * `socket-error`: the socket failed; `protocol-error`: the peer broke the protocol and the client hung up;
 * `connect-failed`: connect() gave up (timeout, abort, missing socket) with commands queued or a socket open.
 */
export type QmpCloseKind = 'requested' | 'eof' | 'socket-error' | 'protocol-error' | 'connect-failed';

export interface QmpCloseReason {
  kind: QmpCloseKind;
  message: string;
  error?: Error;
}

export interface QmpLogEntry {
  direction: 'send' | 'recv' | 'note';
  /** The line as sent or received, cut to `logMaxChars`; or a note about the connection. */
  text: string;
}

export interface QmpClientOptions {
  /** Path of QEMU's QMP UNIX socket. */
  path: string;
  /** Default timeout of execute() and waitForEvent(); 10 s. */
  commandTimeoutMs?: number;
  /** Default time one connect attempt may take, greeting and negotiation included; 10 s. */
  connectTimeoutMs?: number;
  /** Longest line accepted from QEMU, in bytes; 16 MiB. A longer one closes the connection. */
  maxLineBytes?: number;
  /** Receives sent and received lines and notes, e.g. to write qmp.log. Must not throw. */
  onLog?: (entry: QmpLogEntry) => void;
  /** Lines longer than this are cut in log entries; 2000 characters. */
  logMaxChars?: number;
}

export interface QmpConnectOptions {
  /** Time one attempt may take: socket connect, greeting and `qmp_capabilities`. */
  timeoutMs?: number;
  /** Keep retrying while the socket is missing or refused, until this Date.now() deadline. */
  retryUntil?: number;
  /** Same as retryUntil, relative to now. */
  retryForMs?: number;
  /** Pause between retries; 50 ms. */
  retryIntervalMs?: number;
  /** Aborting gives up the connect (e.g. QEMU exited while we were still retrying). */
  signal?: AbortSignal;
}

export interface QmpExecuteOptions {
  /** Overrides the client's commandTimeoutMs; Infinity waits for ever. */
  timeoutMs?: number;
}

export interface QmpWaitForEventOptions<D> {
  /** Overrides the client's commandTimeoutMs; Infinity waits for ever. */
  timeoutMs?: number;
  /** Only an event this accepts settles the wait. */
  predicate?: (event: QmpEvent<D>) => boolean;
}

export type QmpEventListener<D = Record<string, unknown>> = (event: QmpEvent<D>) => void;
