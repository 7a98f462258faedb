// Freezing the guest's filesystems around a disk-only snapshot. Most guests have no agent, so "no
// answer" is an ordinary outcome and the snapshot is then as consistent as a power cut ('crash').
//
// Once a freeze has been sent, a thaw always follows: a freeze we stopped waiting for may still take
// effect in the guest, and one that failed may have frozen some filesystems first. Thawing filesystems
// that are not frozen is harmless; leaving a guest frozen hangs every write in it.
import { GuestAgent, type AgentReply, type AgentSessionOptions } from './session';

export interface FreezeOptions extends AgentSessionOptions {
  /** How long the first sync may take: a guest without an agent costs this much. */
  pingTimeoutMs?: number;
  freezeTimeoutMs?: number;
  /** Per thaw attempt; a thaw sent after a freeze we gave up on waits for that freeze to finish. */
  thawTimeoutMs?: number;
  thawAttempts?: number;
}

export const FREEZE_DEFAULTS = {
  pingTimeoutMs: 1_000,
  freezeTimeoutMs: 10_000,
  thawTimeoutMs: 10_000,
  thawAttempts: 2,
} as const;

export interface FrozenResult<T> {
  result: T;
  /** 'frozen' only when the agent confirmed, before `fn` ran, that it froze at least one filesystem. */
  consistency: 'frozen' | 'crash';
  /** Set when a freeze was sent and no thaw was confirmed: the guest may still be frozen. */
  thawFailed?: string;
}

/** Runs `fn` (the snapshot) with the guest's filesystems frozen when its agent confirms the freeze. */
export async function withFrozenGuest<T>(
  session: string | GuestAgent,
  fn: () => Promise<T>,
  options: FreezeOptions = {},
): Promise<FrozenResult<T>> {
  const o = { ...FREEZE_DEFAULTS, ...options };
  // The engine's session of the VM is used when given (a QEMU agent channel serves one client at
  // a time); a path opens a session of its own, closed at the end.
  const agent = typeof session === 'string' ? new GuestAgent(session, options) : session;
  try {
    if (!(await agent.ping(o.pingTimeoutMs))) return { result: await fn(), consistency: 'crash' };
    const freeze = await agent.execute('guest-fsfreeze-freeze', undefined, o.freezeTimeoutMs);
    // Judged now, before the snapshot: a confirmation arriving later does not cover it.
    const consistency = confirmed(freeze) ? 'frozen' : 'crash';
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await thaw(agent, o.thawTimeoutMs, o.thawAttempts);
      throw err;
    }
    const thawFailed = await thaw(agent, o.thawTimeoutMs, o.thawAttempts);
    return { result, consistency, ...(thawFailed !== undefined ? { thawFailed } : {}) };
  } finally {
    if (typeof session === 'string') agent.close();
  }
}

/** The agent says how many filesystems it froze; anything but a positive count confirms nothing. */
function confirmed(reply: AgentReply<unknown>): boolean {
  return reply.ok && typeof reply.value === 'number' && Number.isInteger(reply.value) && reply.value > 0;
}

/** Undefined when the agent confirmed the thaw; otherwise why not. */
async function thaw(agent: GuestAgent, timeoutMs: number, attempts: number): Promise<string | undefined> {
  let why = 'no thaw attempted';
  for (let i = 0; i < Math.max(1, attempts); i++) {
    // A thaw after a timed-out or dropped command first re-syncs (or reconnects) inside execute.
    const reply = await agent.execute('guest-fsfreeze-thaw', undefined, timeoutMs);
    if (reply.ok) return undefined;
    why = reply.error;
  }
  return why;
}
