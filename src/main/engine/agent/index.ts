// Guest agent sessions: one synced, bounded conversation per VM, and what the engine does through it.
export { AGENT_DEFAULTS, GuestAgent } from './session';
export type { AgentReply, AgentSessionOptions, NoAnswer } from './session';
export { FREEZE_DEFAULTS, withFrozenGuest } from './freeze';
export { agentPortOpen } from './listening';
export type { FreezeOptions, FrozenResult } from './freeze';
