// Opening the UNIX socket, and turning whatever stopped a connect into one QmpConnectError.
import net from 'node:net';
import { QmpCommandError, QmpConnectError, QmpDisconnectedError, QmpProtocolError } from './errors';

/** Errors meaning "QEMU has not created or not yet opened its socket": worth retrying while it starts. */
const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

export function isRetryable(err: unknown): boolean {
  return err instanceof QmpConnectError && RETRYABLE.has(err.code);
}

const EXPLAIN: Record<string, string> = {
  ENOENT: 'the socket does not exist',
  ECONNREFUSED: 'nothing is listening on the socket',
  EACCES: 'permission denied',
  ENOTSOCK: 'the path is not a socket',
};

export function openSocket(path: string, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const socket = net.createConnection({ path });
    const settle = () => {
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onConnect = () => {
      settle();
      resolve(socket);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      settle();
      socket.destroy();
      const code = err.code ?? 'UNKNOWN';
      reject(new QmpConnectError(path, code, `${EXPLAIN[code] ?? err.message} (${code})`, { cause: err }));
    };
    const onAbort = () => {
      settle();
      socket.destroy();
      reject(signal.reason);
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Maps a failure during connect to a QmpConnectError with a code a caller can switch on. */
export function toConnectError(path: string, err: unknown): QmpConnectError {
  if (err instanceof QmpConnectError) return err;
  if (err instanceof QmpCommandError) {
    return new QmpConnectError(path, 'NEGOTIATION', err.message, { cause: err });
  }
  if (err instanceof QmpProtocolError)
    return new QmpConnectError(path, 'PROTOCOL', err.message, { cause: err });
  if (err instanceof QmpDisconnectedError) {
    const code = err.reason.kind === 'protocol-error' ? 'PROTOCOL' : 'CLOSED';
    return new QmpConnectError(path, code, err.reason.message, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new QmpConnectError(path, 'UNKNOWN', message, { cause: err });
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
