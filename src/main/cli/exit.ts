// Exit codes scripts can rely on: one per kind of failure, documented in the README.
import type { ErrorCode } from '../../shared/errors';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  qemuMissing: 5,
  timeout: 6,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_INPUT':
      return EXIT.usage;
    case 'NOT_FOUND':
      return EXIT.notFound;
    case 'CONFLICT':
    case 'BUSY':
      return EXIT.conflict;
    case 'QEMU_NOT_FOUND':
      return EXIT.qemuMissing;
    case 'TIMEOUT':
      return EXIT.timeout;
    default:
      return EXIT.failed;
  }
}
