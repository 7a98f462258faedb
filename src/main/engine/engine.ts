// The engine: owns the VM configs and the running QEMUs of one $HANGAR_HOME. Every front end
// (Electron IPC, host server, CLI) calls these methods; state changes arrive as events.
import { appendJournal } from './journal/journal';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HostInfo } from '../../shared/host';
import { VmId, type VmConfig } from '../../shared/vm';
import type { StateChange } from '../../shared/state';
import type { VmSummary } from '../../shared/api-types';
import { HangarError } from '../../shared/errors';
import { ConfigStore } from './config/store';
import { hangarHome, runtimeRoot, vmPaths, type VmPaths } from './config/paths';
import { pathPolicy, type PathPolicy } from './policy/paths';
import { EngineLock } from './lock';
import { probeHost } from './probe';
import { QemuImg } from './storage/qemu-img';
import { VmRuntime, type StopOptions } from './supervisor/runtime';
import { prepareDisposable } from './rollback/disposable';
import { qemusByPidFile } from './supervisor/proc';
import { sweepKeyFiles } from './backup/crypto';
import { diskQemuPidFile } from './backup/disk-qemu';
import { recoverHome } from './recovery';
import { checkInstantChain, recoverBackups, resumeInstantRestore } from './backup';
import { LockTable, type Claim } from './policy/locks';
import { GuestAgent } from './agent';
import { ProgressGate } from './progress-gate';
import { ImageLibrary } from './images/library';
import type { EngineContext, EngineEvents } from './context';

export type { EngineContext, EngineEvents } from './context';

export interface EngineOptions {
  home?: string;
  env?: NodeJS.ProcessEnv;
  /** Where this engine serves its API, recorded in the lock for other clients. */
  endpoint?: string | null;
}

export class Engine extends EventEmitter<EngineEvents> implements EngineContext {
  readonly store: ConfigStore;
  readonly img: QemuImg;
  /** What host paths from outside may be (policy/paths.ts): never Hangar's own data. */
  readonly policy: PathPolicy;
  private readonly runtimes = new Map<string, VmRuntime>();
  private readonly locks = new LockTable();
  private readonly agents = new Map<string, GuestAgent>();
  /**
   * Fault injection for tests of all-or-nothing operations: a test registers a function under a
   * failpoint's name (e.g. `revert:apply`) and it runs, and may throw, at that point. Only code
   * in the same process can set it; no API reaches it.
   */
  readonly failpoints = new Map<string, (step: number) => void | Promise<void>>();
  /** Run at close: watchers made for this engine (ready/watch.ts, stats/sampler.ts) stop. */
  private readonly closers: (() => void)[] = [];
  /** What this engine cleaned up at open, left by an engine that was killed mid-operation. */
  recovered: string[] = [];

  private constructor(
    readonly home: string,
    readonly env: NodeJS.ProcessEnv,
    readonly host: HostInfo,
    private readonly lock: EngineLock,
  ) {
    super();
    this.store = new ConfigStore(home);
    this.img = new QemuImg(host.qemuImg.path);
    this.policy = pathPolicy([home, runtimeRoot(home, env)]);
  }

  /** Takes the engine lock, probes the host (cached) and re-adopts VMs still running. */
  static async open(options: EngineOptions = {}): Promise<Engine> {
    const env = options.env ?? process.env;
    const home = options.home ?? hangarHome(env);
    new ConfigStore(home).init();
    const lock = await EngineLock.acquire(home, options.endpoint ?? null);
    try {
      const host = await probeHost({ env, cacheFile: join(home, 'cache', 'probe.json') });
      const engine = new Engine(home, env, host, lock);
      // Under the lock no other engine is at work, so anything half-made is an earlier one's.
      engine.recovered = recoverHome(engine.store);
      engine.recovered.push(...recoverBackups(home));
      engine.recovered.push(...sweepKeyFiles(home, env));
      engine.recovered.push(...new ImageLibrary(home, engine.img).cleanup().map((f) => `images/${f}`));
      await engine.adoptAll();
      // A VM made by an instant restore streams its data in whenever it runs.
      engine.on('state', (s) => void (s.state === 'running' && resumeInstantRestore(engine, s.id)));
      for (const [id] of engine.runningPids()) void resumeInstantRestore(engine, id);
      return engine;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private async adoptAll(): Promise<void> {
    const qemus = qemusByPidFile();
    // A stopped VM's backup QEMU (backup/disk-qemu.ts) left by an engine killed mid-backup holds
    // the disks' locks: it goes (the bitmaps it held are then distrusted, so the next backup is full).
    for (const id of this.store.ids()) {
      const helper = qemus.get(diskQemuPidFile(this.paths(id)));
      if (helper) {
        process.kill(helper, 'SIGTERM');
        this.recovered.push(`the backup QEMU of ${id} (pid ${helper})`);
      }
    }
    await Promise.all(
      // Folder names are enough to find running QEMUs; recovery has read every vm.json already.
      this.store.ids().map((id) => this.runtime(id).adopt(qemus.get(this.paths(id).pidFile))),
    );
  }

  /** Detaches from every VM (they keep running) and releases the lock. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.closers.splice(0)) c();
    // The agent channels serve one client each: the next engine must be able to connect.
    for (const a of this.agents.values()) a.close();
    this.agents.clear();
    await Promise.all([...this.runtimes.values()].map((r) => r.detach()));
    this.lock.release();
  }

  private closed = false;
  private readonly pathsOf = new Map<string, VmPaths>();

  /** A VM's file and socket paths (remembered: listings and delete ask for every VM's). */
  paths(id: string): VmPaths {
    let p = this.pathsOf.get(id);
    if (!p) {
      p = vmPaths(this.home, id, this.env);
      this.pathsOf.set(id, p);
    }
    return p;
  }

  /**
   * The VM's guest agent session: one per VM, since QEMU's agent channel serves one client at a
   * time. It is closed when the VM stops; the next call after a restart opens a new one.
   */
  agent(id: string): GuestAgent {
    // A check still in flight when the engine closed (the readiness watch, the sampler) must not
    // open a new channel: it would keep the process alive and hold the guest's only agent client.
    if (this.closed) throw new HangarError('CONFLICT', 'The engine is closed.');
    let a = this.agents.get(id);
    if (!a) {
      a = new GuestAgent(this.paths(id).qgaSocket);
      this.agents.set(id, a);
    }
    return a;
  }

  /** Drops the VM's agent session; the next call opens a new one (after a RAM revert). */
  resetAgent(id: string): void {
    this.agents.get(id)?.close();
    this.agents.delete(id);
  }

  runtime(id: string): VmRuntime {
    let r = this.runtimes.get(id);
    if (!r) {
      r = new VmRuntime(id, this.paths(id), this.policy);
      r.on('state', (s) => {
        if (s.state === 'stopped' || s.state === 'crashed') {
          this.agents.get(id)?.close();
          this.agents.delete(id);
        }
        this.emit('state', s);
      });
      this.runtimes.set(id, r);
    }
    return r;
  }

  /** Registers something to stop when the engine closes. */
  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  /** Running (or paused) VMs this engine supervises, with their QEMU's pid. */
  runningPids(): [string, number][] {
    return [...this.runtimes].flatMap(([id, r]) => {
      const pid = r.pid;
      return pid !== null && (r.state === 'running' || r.state === 'paused')
        ? [[id, pid] as [string, number]]
        : [];
    });
  }

  forget(id: string): void {
    this.pathsOf.delete(id);
    this.runtimes.get(id)?.removeAllListeners();
    this.runtimes.delete(id);
  }

  /** Finds a VM by id, or by its exact name when that is unique. */
  resolve(ref: string): VmConfig {
    // Ids are what the UI and scripts use: read that one vm.json instead of all of them.
    if (VmId.safeParse(ref).success && existsSync(this.paths(ref).configFile)) return this.store.load(ref);
    const entries = this.store.list();
    const byId = entries.find((e) => e.id === ref);
    if (byId) return this.store.load(byId.id);
    const named = entries.filter((e) => e.ok && e.config.name === ref);
    if (named.length === 1) return this.store.load(named[0]!.id);
    if (named.length > 1) {
      throw new HangarError(
        'CONFLICT',
        `${named.length} VMs are named "${ref}"; use the id: ${named.map((e) => e.id).join(', ')}.`,
      );
    }
    throw new HangarError('NOT_FOUND', `No VM is named or has the id "${ref}". hangar list shows them.`);
  }

  list(): VmSummary[] {
    return this.store.list().map((e) => {
      const r = this.runtime(e.id);
      const c = e.ok ? e.config : null;
      return {
        id: e.id,
        name: c?.name ?? `(unreadable ${e.id})`,
        osType: c?.osType ?? null,
        os: c?.os ?? null,
        state: r.state,
        last: r.last,
        cpus: c?.cpus ?? null,
        memoryMiB: c?.memoryMiB ?? null,
        tags: c?.tags ?? [],
        error: e.ok ? null : e.error,
        busy: this.locks.holder(e.id),
        // What cards show besides state, so the UI needs no vm.get per card.
        template: c?.template ?? false,
        linkedTo: c?.linkedTo ?? null,
        baseline: c ? c.baseline !== null : false,
      };
    });
  }

  /**
   * Runs one operation on one VM at a time. A second one fails at once with BUSY instead of
   * queueing behind a slow one, so nothing ever waits on a lock it cannot see.
   */
  async exclusive<T>(id: string, operation: string, fn: () => Promise<T>): Promise<T> {
    return this.withLocks([{ key: id, mode: 'write' }], operation, fn);
  }

  /**
   * Runs an operation that touches several VMs: every claim is taken or none (BUSY), see
   * policy/locks.ts. The first claim is the VM the operation is about (its progress and busy
   * state); the others are shown busy too while it runs.
   */
  async withLocks<T>(claims: Claim[], operation: string, fn: () => Promise<T>): Promise<T> {
    const release = this.locks.acquire(claims, operation);
    const keys = [...new Set(claims.map((c) => c.key))];
    for (const id of keys) this.emit('busy', { id, operation: this.locks.holder(id) });
    let failed = true;
    let error: unknown = null;
    const began = Date.now();
    try {
      const result = await fn();
      failed = false;
      return result;
    } catch (err) {
      error = err;
      throw err;
    } finally {
      release();
      this.journal(claims[0]!.key, operation, error, Date.now() - began);
      for (const id of keys) this.emit('busy', { id, operation: this.locks.holder(id) });
      // Whoever shows progress of this operation learns that it is over, also when it failed.
      this.endProgress(claims[0]!.key, operation, failed);
    }
  }

  /**
   * Resolves a VM, locks it (and whatever else `extra` claims) and runs `fn` with its config
   * read again under the lock, so no decision rests on a config another operation has since
   * changed.
   */
  async withVm<T>(
    ref: string,
    operation: string,
    fn: (config: VmConfig) => Promise<T>,
    extra: Claim[] = [],
  ): Promise<T> {
    const id = this.resolve(ref).id;
    return this.withLocks([{ key: id, mode: 'write' }, ...extra], operation, () => fn(this.store.load(id)));
  }

  /** An operation into its VM's history (the Log tab); claims that are not VMs have none. */
  private journal(key: string, operation: string, error: unknown, ms: number): void {
    if (!VmId.safeParse(key).success) return;
    appendJournal(this.paths(key).vmDir, {
      at: new Date().toISOString(),
      kind: 'operation',
      what: operation,
      ok: error === null,
      ms,
      ...(error !== null ? { detail: error instanceof Error ? error.message : String(error) } : {}),
    });
  }

  async failpoint(name: string, step = 0): Promise<void> {
    await this.failpoints.get(name)?.(step);
  }

  /** The operation under way on a VM, or null. */
  busyWith(id: string): string | null {
    return this.locks.holder(id);
  }

  private readonly reported = new Set<string>();

  /** Closes a progress report: 100 % with step "done" or "failed". */
  endProgress(id: string, operation: string, failed: boolean): void {
    if (!this.reported.delete(id)) return;
    this.emit('progress', { id, operation, percent: 100, step: failed ? 'failed' : 'done' });
  }

  private readonly gate = new ProgressGate();

  /** Reports progress, at most about ten times a second per VM (see ProgressGate). */
  progress(id: string, operation: string, percent: number, step: string): void {
    if (!this.gate.pass(id, step, percent)) return;
    if (percent >= 100) this.reported.delete(id);
    else this.reported.add(id);
    this.emit('progress', { id, operation, percent: Math.round(percent), step });
  }

  async start(ref: string, options: { paused?: boolean; disposable?: boolean } = {}): Promise<StateChange> {
    const config = this.resolve(ref);
    return this.exclusive(config.id, 'start', async () => {
      if (config.template) {
        throw new HangarError(
          'CONFLICT',
          `"${config.name}" is a template, which is never started; make a linked clone of it.`,
        );
      }
      const rt = this.runtime(config.id);
      if (rt.state === 'stopped' || rt.state === 'crashed') await checkInstantChain(this, config);
      if (options.disposable && (rt.state === 'stopped' || rt.state === 'crashed')) {
        const argvOverride = await prepareDisposable(this.img, config, this.paths(config.id));
        await rt.start(config, this.host, { paused: options.paused, disposable: true, argvOverride });
        return rt.last;
      }
      await rt.start(config, this.host, { paused: options.paused });
      return this.runtime(config.id).last;
    });
  }

  async stop(ref: string, options: StopOptions = {}): Promise<StateChange> {
    const config = this.resolve(ref);
    const r = this.runtime(config.id);
    // A forced stop may cut short a graceful one that the guest is ignoring.
    if (options.force && this.locks.holder(config.id) === 'stop') {
      await r.stop(options);
      return r.last;
    }
    return this.exclusive(config.id, 'stop', async () => {
      await r.stop({
        ...options,
        // guest-shutdown gives no answer when it works: the guest is on its way down.
        agentShutdown: async () => {
          await this.agent(config.id).execute('guest-shutdown', { mode: 'powerdown' }, 5_000);
        },
        onWait: (waited, total) =>
          this.progress(
            config.id,
            'stop',
            (100 * waited) / total,
            `waiting for the guest to shut down (${waited} of ${total} s)`,
          ),
      });
      return r.last;
    });
  }

  async pause(ref: string): Promise<StateChange> {
    return this.simple(ref, 'pause', (r) => r.pause());
  }

  async resume(ref: string): Promise<StateChange> {
    return this.simple(ref, 'resume', (r) => r.resume());
  }

  async reset(ref: string): Promise<StateChange> {
    return this.simple(ref, 'reset', (r) => r.reset());
  }

  private simple(ref: string, op: string, fn: (r: VmRuntime) => Promise<void>): Promise<StateChange> {
    const id = this.resolve(ref).id;
    return this.exclusive(id, op, async () => {
      await fn(this.runtime(id));
      return this.runtime(id).last;
    });
  }

  /** Runs a QMP command on a running VM (for the monitor and the features built on QMP). */
  qmp(ref: string) {
    // A VM's id with a supervised runtime needs no vm.json at all: this is the monitor's and the
    // live features' path, called many times a second.
    const id = this.runtimes.has(ref) ? ref : this.resolve(ref).id;
    return this.runtime(id).qmp();
  }

  isStopped(id: string): boolean {
    const s = this.runtime(id).state;
    return s === 'stopped' || s === 'crashed';
  }

  requireStopped(config: VmConfig, what: string): void {
    if (!this.isStopped(config.id)) {
      throw new HangarError(
        'CONFLICT',
        `"${config.name}" is ${this.runtime(config.id).state}; stop it before you ${what}.`,
      );
    }
  }
}
