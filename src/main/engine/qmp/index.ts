// The QMP client: one connection to one QEMU's control socket.
export { QmpClient, QMP_DEFAULTS } from './client';
export type { QmpClientEvents } from './client';
export { ANY_EVENT } from './events';
export {
  QmpError,
  QmpCommandError,
  QmpTimeoutError,
  QmpEventTimeoutError,
  QmpDisconnectedError,
  QmpProtocolError,
  QmpConnectError,
  QmpStateError,
} from './errors';
export type { QmpProtocolErrorKind } from './errors';
export type * from './types';
