// Errors cross every boundary (IPC, WebSocket, CLI --json) as data: { code, message, details }.
// The code is for programs, the message is for people and says what to do next.

export const ERROR_CODES = [
  'INVALID_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'BUSY',
  'QEMU_NOT_FOUND',
  'QEMU_FAILED',
  'QMP_ERROR',
  'TIMEOUT',
  'CONFIG_CORRUPT',
  'IO_ERROR',
  'PATH_TOO_LONG',
  'UNSUPPORTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorData {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class HangarError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'HangarError';
    this.code = code;
    if (details) this.details = details;
  }

  toData(): ErrorData {
    return this.details
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }

  static fromData(data: ErrorData): HangarError {
    return new HangarError(data.code, data.message, data.details);
  }
}

/** Turns anything thrown into error data without losing the reason. */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof HangarError) return err.toData();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message };
}
