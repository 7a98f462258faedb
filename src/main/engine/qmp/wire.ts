// Classifies one line from QEMU. Pure, so the client only decides what to do with each kind.
import { QmpProtocolError } from './errors';
import type { QmpEvent, QmpGreeting } from './types';

export type QmpReplyMessage =
  | { type: 'return'; id: unknown; value: unknown }
  | { type: 'error'; id: unknown; errorClass: string; desc: string };

export type QmpMessage =
  { type: 'greeting'; greeting: QmpGreeting } | { type: 'event'; event: QmpEvent } | QmpReplyMessage;

/** Cuts a line for logs and error messages, saying how long it really was. */
export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVersion(value: unknown): boolean {
  return isRecord(value) && ['major', 'minor', 'micro'].every((k) => typeof value[k] === 'number');
}

function malformed(what: string, line: string): QmpProtocolError {
  return new QmpProtocolError('malformed-message', `Malformed QMP ${what}`, false, shorten(line, 200));
}

/** Parses a line (without its newline); throws a non-fatal QmpProtocolError for anything not QMP. */
export function parseMessage(line: string): QmpMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    throw new QmpProtocolError('invalid-json', 'QMP line is not JSON', false, shorten(line, 200));
  }
  if (!isRecord(msg)) {
    throw new QmpProtocolError('not-an-object', 'QMP message is not an object', false, shorten(line, 200));
  }
  if ('QMP' in msg) {
    const g = msg.QMP;
    if (!isRecord(g) || !isRecord(g.version) || !isVersion(g.version.qemu)) throw malformed('greeting', line);
    const capabilities = Array.isArray(g.capabilities)
      ? g.capabilities.filter((c) => typeof c === 'string')
      : [];
    const pkg = typeof g.version.package === 'string' ? g.version.package : '';
    const qemu = g.version.qemu as QmpGreeting['version']['qemu'];
    return { type: 'greeting', greeting: { version: { qemu, package: pkg }, capabilities } };
  }
  if ('event' in msg) {
    if (typeof msg.event !== 'string') throw malformed('event', line);
    const ts = isRecord(msg.timestamp) ? msg.timestamp : {};
    const event: QmpEvent = {
      event: msg.event,
      data: isRecord(msg.data) ? msg.data : {},
      timestamp: {
        seconds: typeof ts.seconds === 'number' ? ts.seconds : 0,
        microseconds: typeof ts.microseconds === 'number' ? ts.microseconds : 0,
      },
    };
    return { type: 'event', event };
  }
  if ('return' in msg) return { type: 'return', id: msg.id, value: msg.return };
  if ('error' in msg) {
    const e = isRecord(msg.error) ? msg.error : {};
    return {
      type: 'error',
      id: msg.id,
      errorClass: typeof e.class === 'string' ? e.class : 'GenericError',
      desc: typeof e.desc === 'string' ? e.desc : JSON.stringify(msg.error),
    };
  }
  throw malformed('message', line);
}
