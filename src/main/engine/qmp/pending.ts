// Commands waiting for their reply, keyed by the id sent with them. Replies are matched by id only:
// never by order, so an early event, an id-less error or a late reply cannot shift later replies.
import { QmpCommandError, QmpDisconnectedError, QmpTimeoutError } from './errors';
import type { QmpCloseReason } from './types';

export interface PendingCommand {
  id: string;
  command: string;
  /** The JSON line to send, without its newline. */
  line: string;
  sent: boolean;
}

interface Entry extends PendingCommand {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Ids of timed-out commands remembered so their late replies are recognised, not reported as unknown. */
const LATE_IDS_KEPT = 256;

export type SettleResult = 'settled' | 'late' | 'unknown';

export class PendingCommands {
  private nextId = 1;
  private readonly entries = new Map<string, Entry>();
  private readonly lateIds = new Set<string>();

  /**
   * Registers a command and returns its entry (to send now or later) and the promise of its result.
   * Throws if the arguments cannot be serialised.
   */
  add(command: string, args: object | undefined, timeoutMs: number): [PendingCommand, Promise<unknown>] {
    // Counts on across reconnects, so a reply meant for an earlier connection can never match.
    const id = `hangar-${this.nextId++}`;
    // JSON.stringify escapes quotes, newlines and control characters: any argument text stays one safe line.
    const line = JSON.stringify(
      args === undefined ? { execute: command, id } : { execute: command, arguments: args, id },
    );
    let entry!: Entry;
    const promise = new Promise<unknown>((resolve, reject) => {
      entry = { id, command, line, sent: false, resolve, reject, timer: undefined };
    });
    if (Number.isFinite(timeoutMs)) {
      entry.timer = setTimeout(() => {
        this.entries.delete(id);
        if (entry.sent) this.rememberLate(id);
        entry.reject(new QmpTimeoutError(command, timeoutMs));
      }, timeoutMs);
    }
    this.entries.set(id, entry);
    return [entry, promise];
  }

  /** Commands registered but not sent yet, oldest first. */
  unsent(): PendingCommand[] {
    return [...this.entries.values()].filter((e) => !e.sent);
  }

  /** Hands a reply to the command with this id, if one was sent and is still waiting. */
  settle(
    id: unknown,
    reply: { ok: true; value: unknown } | { ok: false; errorClass: string; desc: string },
  ): SettleResult {
    const entry = typeof id === 'string' ? this.entries.get(id) : undefined;
    if (!entry || !entry.sent) {
      return typeof id === 'string' && this.lateIds.delete(id) ? 'late' : 'unknown';
    }
    this.entries.delete(entry.id);
    clearTimeout(entry.timer);
    if (reply.ok) entry.resolve(reply.value);
    else entry.reject(new QmpCommandError(entry.command, reply.errorClass, reply.desc, entry.id));
    return 'settled';
  }

  failAll(reason: QmpCloseReason): void {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.lateIds.clear();
    for (const entry of all) {
      clearTimeout(entry.timer);
      entry.reject(new QmpDisconnectedError(entry.command, reason));
    }
  }

  private rememberLate(id: string): void {
    this.lateIds.add(id);
    if (this.lateIds.size > LATE_IDS_KEPT) {
      const oldest = this.lateIds.values().next().value;
      if (oldest !== undefined) this.lateIds.delete(oldest);
    }
  }
}
