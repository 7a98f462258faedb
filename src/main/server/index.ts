export { startHostServer } from './server';
export type { ApiDispatcher, ConsoleKind, HostServer, HostServerOptions } from './types';
export { CLOSE_CODES } from './types';
