// Errors of the QMP client. Each keeps the facts a caller needs to decide what to do, as fields,
// so nobody has to parse a message.
import type { QmpCloseReason, QmpState } from './types';

export class QmpError extends Error {
  override name = 'QmpError';
}

/** QEMU answered a command with `{"error": {...}}`; `errorClass` is QMP's class, e.g. 'DeviceNotFound'. */
export class QmpCommandError extends QmpError {
  override name = 'QmpCommandError';
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
    readonly id?: string,
  ) {
    super(`QMP command ${command} failed: ${errorClass}: ${desc}`);
  }
}

/** No reply within the timeout. The command may still run in QEMU; its late reply is ignored. */
export class QmpTimeoutError extends QmpError {
  override name = 'QmpTimeoutError';
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`QMP command ${command} got no reply within ${timeoutMs} ms`);
  }
}

export class QmpEventTimeoutError extends QmpError {
  override name = 'QmpEventTimeoutError';
  constructor(
    readonly event: string,
    readonly timeoutMs: number,
  ) {
    super(`QMP event ${event} did not arrive within ${timeoutMs} ms`);
  }
}

/** The connection ended before the reply (or event) came; `reason` says how. */
export class QmpDisconnectedError extends QmpError {
  override name = 'QmpDisconnectedError';
  constructor(
    /** The command (or `event NAME` for waitForEvent) that was waiting, if any. */
    readonly command: string | undefined,
    readonly reason: QmpCloseReason,
  ) {
    super(
      `QMP connection closed${command ? ` while waiting for ${command}` : ''}: ${reason.message}`,
      reason.error ? { cause: reason.error } : undefined,
    );
  }
}

export type QmpProtocolErrorKind =
  | 'line-too-long'
  | 'invalid-json'
  | 'not-an-object'
  | 'expected-greeting'
  | 'unexpected-greeting'
  | 'unknown-id'
  | 'reply-without-id'
  | 'malformed-message';

/**
 * The peer sent something QMP does not allow. Fatal ones (`fatal`) close the connection; the others are
 * reported through the 'protocol-error' event and the line is dropped.
 */
export class QmpProtocolError extends QmpError {
  override name = 'QmpProtocolError';
  constructor(
    readonly kind: QmpProtocolErrorKind,
    message: string,
    readonly fatal: boolean,
    /** The offending line, cut short. */
    readonly line?: string,
  ) {
    super(message);
  }
}

/**
 * connect() failed. `code` is the socket's errno code ('ENOENT': no socket yet, 'ECONNREFUSED': nobody
 * listening) or one of 'TIMEOUT', 'ABORTED', 'CLOSED' (peer hung up or close() was called during the
 * handshake), 'PROTOCOL' (no valid greeting), 'NEGOTIATION' (`qmp_capabilities` was refused).
 */
export class QmpConnectError extends QmpError {
  override name = 'QmpConnectError';
  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`QMP connect to ${path} failed: ${message}`, options);
  }
}

/** A method was called in a state that does not allow it, e.g. execute() before connect(). */
export class QmpStateError extends QmpError {
  override name = 'QmpStateError';
  constructor(
    message: string,
    readonly state: QmpState,
  ) {
    super(message);
  }
}
