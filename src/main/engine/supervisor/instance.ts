// One running QEMU process and its QMP connection. It notices the end of the process from the
// QMP socket closing (immediate, even for a SIGKILL) and confirms it from /proc, and it knows
// whether the end was asked for (stop, guest poweroff) or a crash.
import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import type { LogWriter } from './log-writer';
import { QmpClient, type QmpEvent } from '../qmp';
import { isAlive, zombieExit } from './proc';

export interface ExitInfo {
  /** True when the end was asked for: a stop, or the guest powering off. */
  expected: boolean;
  reason: string;
  code: number | null;
  signal: string | null;
}

export type InstanceEvents = {
  /** Run state as QMP reports it: running or paused. */
  status: [status: 'running' | 'paused', reason: string];
  /** The guest reset (reboot); the VM keeps running. */
  reset: [guest: boolean];
  exit: [ExitInfo];
};

const SHUTDOWN_REASONS: Record<string, string> = {
  'guest-shutdown': 'the guest powered off',
  'host-qmp-quit': 'stopped by Hangar',
  'host-qmp-system-reset': 'reset by Hangar',
  'host-signal': 'QEMU was stopped by a signal',
  'guest-panic': 'the guest panicked',
  'guest-reset': 'the guest rebooted',
};

export class QemuInstance extends EventEmitter<InstanceEvents> {
  private shutdownReason: string | null = null;
  private stopRequested: string | null = null;
  private detached = false;
  private exitInfo: ExitInfo | null = null;
  private childExit: { code: number | null; signal: string | null } | null = null;
  readonly exited: Promise<ExitInfo>;
  private resolveExit!: (e: ExitInfo) => void;

  constructor(
    readonly pid: number,
    readonly qmp: QmpClient,
    /** Present only when this engine spawned the process; adopted ones have no child handle. */
    private readonly child: ChildProcess | null,
    private readonly qmpLog: LogWriter | null,
  ) {
    super();
    this.exited = new Promise((r) => (this.resolveExit = r));
    qmp.onEvent('*', (e) => this.onQmpEvent(e));
    qmp.on('close', (reason) => void this.onQmpClose(reason.message));
    child?.on('exit', (code, signal) => {
      this.childExit = { code, signal };
      if (this.qmp.state !== 'ready') void this.onQmpClose('QEMU exited');
    });
  }

  get hasExited(): boolean {
    return this.exitInfo !== null;
  }

  /** Marks the coming exit as asked for, so it is reported as stopped rather than crashed. */
  expectExit(reason = 'stopped'): void {
    this.stopRequested = reason;
  }

  /** A shutdown that was asked for and not carried out: a later exit is the guest's own again. */
  unexpectExit(): void {
    this.stopRequested = null;
  }

  private onQmpEvent(e: QmpEvent): void {
    this.logLine(`event ${e.event} ${JSON.stringify(e.data)}`);
    const data = e.data as { guest?: boolean; reason?: string };
    switch (e.event) {
      case 'SHUTDOWN':
        this.shutdownReason = SHUTDOWN_REASONS[data.reason ?? ''] ?? `shutdown (${data.reason ?? 'unknown'})`;
        break;
      case 'STOP':
        this.emit('status', 'paused', 'paused');
        break;
      case 'RESUME':
        this.emit('status', 'running', 'resumed');
        break;
      case 'RESET':
        this.emit('reset', data.guest === true);
        break;
    }
  }

  /** Stops watching: the engine is closing and QEMU keeps running for the next engine. */
  async detach(): Promise<void> {
    this.detached = true;
    this.removeAllListeners();
    await this.qmp.close();
  }

  private async onQmpClose(why: string): Promise<void> {
    if (this.exitInfo || this.detached) return;
    // The socket closes as the process ends; wait (briefly) until /proc agrees it is gone.
    const deadline = Date.now() + 5_000;
    while (isAlive(this.pid) && Date.now() < deadline && !this.childExit) await sleep(20);
    // A re-adopted QEMU is not our child: its exit status is readable only from its zombie.
    if (!this.child && !this.childExit) this.childExit = zombieExit(this.pid);
    // Our own child's exit status (code or signal) arrives just after the socket closes.
    const statusDeadline = Date.now() + 500;
    while (this.child && !this.childExit && Date.now() < statusDeadline) await sleep(10);
    if (this.exitInfo) return;
    if (isAlive(this.pid) && !this.childExit) {
      // QMP went away but QEMU lives on: it is no longer under control, which is a failure too.
      this.finish({
        expected: false,
        reason: `lost the QMP connection (${why}) while QEMU still runs`,
        code: null,
        signal: null,
      });
      return;
    }
    const code = this.childExit?.code ?? null;
    const signal = this.childExit?.signal ?? null;
    const expected = this.stopRequested !== null || this.shutdownReason !== null;
    let reason: string;
    if (this.stopRequested !== null) reason = this.stopRequested;
    else if (this.shutdownReason) reason = this.shutdownReason;
    else if (signal) reason = `QEMU was killed (${signal})`;
    else if (code !== null) reason = `QEMU exited unexpectedly (exit code ${code})`;
    else reason = 'QEMU exited unexpectedly';
    this.finish({ expected, reason, code, signal });
  }

  private finish(info: ExitInfo): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    this.logLine(`exit ${JSON.stringify(info)}`);
    void this.qmp.close();
    this.resolveExit(info);
    this.emit('exit', info);
  }

  /** Waits for the process to end; resolves false on timeout. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    const done = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return done;
  }

  signal(sig: NodeJS.Signals): void {
    try {
      process.kill(this.pid, sig);
    } catch {
      // already gone
    }
  }

  /** Called when the process is known to be gone without a QMP close (e.g. killed while hung). */
  async confirmGone(): Promise<void> {
    await this.onQmpClose('process ended');
  }

  private logLine(text: string): void {
    this.qmpLog?.line(text);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
