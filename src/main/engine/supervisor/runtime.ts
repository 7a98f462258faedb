// The state machine of one VM: stopped, starting, running, paused, stopping, crashed. Every
// transition is an event with a timestamp; the QEMU process is watched through QemuInstance.
import { appendJournal } from '../journal/journal';
import { EventEmitter } from 'node:events';
import type { VmConfig } from '../../../shared/vm';
import type { HostInfo } from '../../../shared/host';
import type { StateChange, VmState } from '../../../shared/state';
import { HangarError } from '../../../shared/errors';
import type { VmPaths } from '../config/paths';
import type { PathPolicy } from '../policy/paths';
import type { QmpClient } from '../qmp';
import { adopt, cleanRuntime, launch, type LaunchOptions } from './launch';
import type { QemuInstance } from './instance';
import { qemuErrorLines, tailFile } from './logs';
import { loadLastState, saveLastState } from './last-state';
import { existsSync } from 'node:fs';
import { discardDisposable, disposableDir } from '../rollback/disposable';
import { processState } from './proc';

export interface StopOptions {
  /** Pull the plug instead of asking the guest to shut down. */
  force?: boolean;
  /** How long the guest gets to power off after being asked; 60 s. */
  timeoutMs?: number;
  /**
   * Pull the plug when the guest has not powered off by the end of the wait. Never the default:
   * a guest installing updates must not be cut off because it was slow.
   */
  forceAfter?: boolean;
  /** Asks the guest agent to power off as well as pressing the button (see engine.stop). */
  agentShutdown?: () => Promise<void>;
  /** Called while waiting, with the seconds waited so far and the total. */
  onWait?: (waitedSec: number, totalSec: number) => void;
}

export class VmRuntime extends EventEmitter<{ state: [StateChange] }> {
  private current: VmState = 'stopped';
  private lastChange: StateChange;
  /**
   * Adopted without a QEMU and not looked at yet: the saved state is read when the state is
   * first asked for, so opening an engine over a thousand stopped VMs reads none of their files.
   */
  private unsettled = false;
  private instance: QemuInstance | null = null;
  /** Set when a running QEMU was found but could not be re-adopted. */
  adoptError: string | null = null;
  /** True during a disposable run: its overlays are deleted when QEMU exits. */
  disposable = false;

  constructor(
    readonly id: string,
    readonly paths: VmPaths,
    private readonly policy?: PathPolicy,
  ) {
    super();
    this.lastChange = { id, state: 'stopped', at: new Date().toISOString() };
  }

  get state(): VmState {
    return this._state;
  }

  /** The latest state change, with its reason. */
  get last(): StateChange {
    this.settle();
    return this.lastChange;
  }

  set last(change: StateChange) {
    this.settle();
    this.lastChange = change;
  }

  private get _state(): VmState {
    this.settle();
    return this.current;
  }

  private set _state(state: VmState) {
    this.settle();
    this.current = state;
  }

  /** What adoption found for a VM without a QEMU, applied when the state is first needed. */
  private settle(): void {
    if (!this.unsettled) return;
    this.unsettled = false;
    this.settleWithoutQemu(loadLastState(this.paths, this.id));
  }

  private settleWithoutQemu(saved: StateChange | null): void {
    discardDisposable(this.paths.vmDir);
    if (saved && saved.state !== 'stopped' && saved.state !== 'crashed') {
      this.set('stopped', {
        reason: 'QEMU ended while no Hangar engine was running; qemu.log may say why',
      });
    } else if (saved) {
      this._state = saved.state;
      this.last = saved;
    }
  }

  get pid(): number | null {
    return this.instance?.pid ?? null;
  }

  private set(state: VmState, extra: Partial<StateChange> = {}): void {
    this._state = state;
    this.last = { id: this.id, state, at: new Date().toISOString(), ...extra };
    if (this.instance && state !== 'stopped' && state !== 'crashed') {
      this.last.pid = this.instance.pid;
      if (this.disposable) this.last.disposable = true;
    }
    saveLastState(this.paths, this.last);
    appendJournal(this.paths.vmDir, {
      at: this.last.at,
      kind: 'state',
      what: this.last.disposable ? `${state} (disposable)` : state,
      ok: state !== 'crashed',
      ...(extra.reason ? { detail: extra.reason } : {}),
    });
    this.emit('state', this.last);
  }

  qmp(): QmpClient {
    if (!this.instance || this.instance.hasExited) {
      throw new HangarError('CONFLICT', `The VM is ${this._state}; start it first.`);
    }
    return this.instance.qmp;
  }

  private watch(instance: QemuInstance): void {
    this.instance = instance;
    instance.on('status', (status, reason) => {
      // Our own pause/resume already reported the change; QMP's STOP/RESUME then repeat it.
      if ((this._state === 'running' || this._state === 'paused') && status !== this._state)
        this.set(status, { reason });
    });
    instance.on('exit', (info) => {
      if (this.instance !== instance) return; // an old instance's exit is ignored
      this.instance = null;
      cleanRuntime(this.paths);
      if (this.disposable) discardDisposable(this.paths.vmDir);
      this.disposable = false;
      if (info.expected) this.set('stopped', { reason: info.reason });
      else
        this.set('crashed', { reason: info.reason, logTail: qemuErrorLines(tailFile(this.paths.qemuLog)) });
    });
  }

  private async readStatus(instance: QemuInstance): Promise<'running' | 'paused'> {
    const s = await instance.qmp.execute<{ running: boolean; status: string }>('query-status');
    return s.running ? 'running' : 'paused';
  }

  /**
   * Finds a QEMU left running by an earlier engine and takes it over, keeping the reason that
   * engine recorded; a QEMU that ended while no engine watched is reported as such.
   */
  async adopt(found?: number): Promise<void> {
    // No QEMU found by its command line and no runtime folder (so no pidfile): nothing runs.
    if (!found && !existsSync(this.paths.runDir)) {
      this.unsettled = true;
      return;
    }
    const saved = loadLastState(this.paths, this.id);
    try {
      const instance = await adopt(this.paths, found);
      this.disposable = instance !== null && existsSync(disposableDir(this.paths.vmDir));
      if (!instance) {
        this.settleWithoutQemu(saved);
        return;
      }
      this.watch(instance);
      const state = await this.readStatus(instance);
      const same = saved?.pid === instance.pid && saved.state === state;
      this._state = state;
      this.last = same
        ? saved
        : { id: this.id, state, at: new Date().toISOString(), reason: 're-adopted', pid: instance.pid };
    } catch (err) {
      this.adoptError = (err as Error).message;
      this.set('running', { reason: this.adoptError });
    }
  }

  async start(
    config: VmConfig,
    host: HostInfo,
    options: LaunchOptions & { disposable?: boolean } = {},
  ): Promise<void> {
    if (this.adoptError) throw new HangarError('CONFLICT', `Not starting a second QEMU: ${this.adoptError}`);
    if (this._state !== 'stopped' && this._state !== 'crashed') {
      throw new HangarError(
        'CONFLICT',
        `"${config.name}" is ${this._state}; it can only be started when stopped.`,
      );
    }
    const before = this.last;
    this.disposable = options.disposable === true;
    this.set('starting');
    let instance: QemuInstance;
    try {
      instance = await launch(config, host, this.paths, { policy: this.policy, ...options });
    } catch (err) {
      if (this.disposable) discardDisposable(this.paths.vmDir);
      this.disposable = false;
      this._state = before.state === 'crashed' ? 'crashed' : 'stopped';
      this.set('stopped', { reason: `start failed: ${(err as Error).message}` });
      throw err;
    }
    this.watch(instance);
    this.set(await this.readStatus(instance), { reason: 'started' });
  }

  async pause(): Promise<void> {
    this.require(['running'], 'paused');
    await this.qmp().execute('stop');
    // QEMU's STOP event usually arrives before the reply and has reported the change already.
    if (this._state !== 'paused') this.set('paused', { reason: 'paused' });
  }

  async resume(): Promise<void> {
    this.require(['paused'], 'resumed');
    await this.qmp().execute('cont');
    if (this._state !== 'running') this.set('running', { reason: 'resumed' });
  }

  async reset(): Promise<void> {
    this.require(['running', 'paused'], 'reset');
    await this.qmp().execute('system_reset');
  }

  /** ACPI power button, then quit, then SIGTERM, then SIGKILL; force goes straight to the end. */
  async stop(options: StopOptions = {}): Promise<void> {
    const instance = this.instance;
    if (!instance) throw new HangarError('CONFLICT', `The VM is ${this._state}; there is nothing to stop.`);
    if (options.force) {
      instance.expectExit('forced off');
      this.set('stopping', { reason: 'forced off' });
      // A QEMU stopped by SIGSTOP answers no quit and handles no SIGTERM until it is continued;
      // waiting for both would only add 10 s to pulling the plug.
      if (processState(instance.pid) === 'T') {
        instance.signal('SIGKILL');
        if (await instance.waitExit(5_000)) return;
        return instance.confirmGone();
      }
      await instance.qmp.execute('quit', undefined, { timeoutMs: 2_000 }).catch(() => undefined);
      if (await instance.waitExit(3_000)) return;
      return this.kill(instance);
    }
    this.require(['running', 'paused'], 'shut down');
    const wasPaused = this._state === 'paused';
    instance.expectExit('shut down');
    this.set('stopping', { reason: 'shutdown requested' });
    // A paused guest cannot react to the power button.
    if (wasPaused) await instance.qmp.execute('cont').catch(() => undefined);
    const total = options.timeoutMs ?? 60_000;
    const started = Date.now();
    const deadline = started + total;
    // The agent is asked once (it powers off whether or not the guest handles ACPI); the button
    // is pressed again every 10 s, since a guest still booting may miss the first press.
    void options.agentShutdown?.().catch(() => undefined);
    while (Date.now() < deadline) {
      await instance.qmp.execute('system_powerdown', undefined, { timeoutMs: 5_000 }).catch(() => undefined);
      options.onWait?.(Math.round((Date.now() - started) / 1000), Math.round(total / 1000));
      if (await instance.waitExit(Math.min(10_000, Math.max(0, deadline - Date.now())))) return;
    }
    if (options.forceAfter) {
      instance.expectExit(`the guest did not shut down within ${total / 1000} s; forced off as asked`);
      await instance.qmp.execute('quit', undefined, { timeoutMs: 2_000 }).catch(() => undefined);
      if (await instance.waitExit(5_000)) return;
      return this.kill(instance);
    }
    // The guest keeps running: shutting down asks, it never turns into a power cut by itself.
    instance.unexpectExit();
    this.set('running', { reason: `the guest did not shut down within ${total / 1000} s` });
    throw new HangarError(
      'TIMEOUT',
      `The guest did not shut down within ${total / 1000} s and is still running. It may be busy ` +
        '(installing updates), or ignore the power button (no ACPI handling, no guest agent). Wait ' +
        'and try again, shut it down from inside, or force it off (hangar stop --force; ' +
        '--force-after SEC pulls the plug when a wait ends).',
      { timeoutMs: total },
    );
  }

  private async kill(instance: QemuInstance): Promise<void> {
    instance.signal('SIGTERM');
    if (await instance.waitExit(5_000)) return;
    instance.signal('SIGKILL');
    if (await instance.waitExit(5_000)) return;
    await instance.confirmGone();
  }

  /** Stops watching without stopping QEMU (the engine is shutting down; the VM lives on). */
  async detach(): Promise<void> {
    const instance = this.instance;
    this.instance = null;
    await instance?.detach();
  }

  private require(states: VmState[], what: string): void {
    if (!states.includes(this._state)) {
      throw new HangarError('CONFLICT', `The VM is ${this._state}, so it cannot be ${what}.`);
    }
  }
}
