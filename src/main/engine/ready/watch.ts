// Readiness as the UI shows it on cards: for each running VM, the engine asks the guest (through
// its agent) how far it has come, every two seconds while it boots and every ten once it is
// ready, and tells front ends when the answer changes. A reboot is noticed by the next round (the
// agent goes quiet, cloud-init's result in /run is gone), so the line goes back to booting.
//
// Only long-lived front ends (the app, the host server) turn it on: a CLI command must not keep
// polling guests, or keep its process alive. Timers are unref'd for the same reason. A VM that is
// busy (a snapshot freezing the guest, a revert) is skipped for that round: its answers would be
// about a guest in the middle of a change.
import type { Readiness } from '../../../shared/api-types';
import { HangarError } from '../../../shared/errors';
import type { VmConfig } from '../../../shared/vm';
import type { EngineContext } from '../context';
import { perEngine } from '../per-engine';
import { addressOf } from '../agent/guest';
import { sshOf } from '../agent/vm-ops';
import { runCheck } from './checks';
import { tailFile } from '../supervisor/logs';
import { bootFailure, type BootFailure } from './boot-failure';
import { FIRMWARE_RING_BYTES } from '../qemu/argv';
import { serialSinceStart } from '../supervisor/launch';

const BOOTING_MS = 2_000;
const SETTLED_MS = 10_000;
/** A guest without an agent is asked less and less often, up to this. */
const NO_AGENT_MAX_MS = 30_000;

/**
 * SeaBIOS's output in this run, per VM: ringbuf-read takes what it returns out of QEMU's ring, so
 * it is kept here (its last 64 KiB) and started afresh when the QEMU process changes.
 */
const seabios = new Map<string, { pid: number | null; text: string }>();

async function seabiosText(engine: EngineContext, id: string): Promise<string> {
  const pid = engine.runtime(id).pid;
  let kept = seabios.get(id);
  if (!kept || kept.pid !== pid) seabios.set(id, (kept = { pid, text: '' }));
  try {
    const fresh = await engine
      .qmp(id)
      .execute<string>('ringbuf-read', { device: 'fwlog', size: FIRMWARE_RING_BYTES, format: 'utf8' });
    kept.text = (kept.text + fresh).slice(-FIRMWARE_RING_BYTES);
  } catch {
    // A VM started before the ring existed, or QEMU busy: what was read so far stands.
  }
  return kept.text;
}

/** What the firmware said about this run's boot (boot-failure.ts). */
async function firmwareFailure(engine: EngineContext, config: VmConfig): Promise<BootFailure | null> {
  if (config.firmware === 'bios') return bootFailure('bios', await seabiosText(engine, config.id), '');
  const serial = tailFile(engine.paths(config.id).serialLog, 256 * 1024, 100_000);
  return bootFailure(config.firmware, '', serialSinceStart(serial));
}

/** One look at a running guest. Never throws: a failure is a stage with its reason. */
export async function assess(engine: EngineContext, config: VmConfig): Promise<Readiness> {
  const ssh = sshOf(config);
  const seeded = config.cloudInit !== null;
  const base = { ip: null, ssh, cloudInit: seeded ? ('running' as const) : null };
  const stuck = await firmwareFailure(engine, config);
  if (stuck) return { ...base, stage: 'no-boot', detail: stuck.message };
  const agent = engine.agent(config.id);
  if (!(await agent.ping(2_000)))
    return seeded
      ? { ...base, stage: 'booting', detail: 'waiting for the guest agent' }
      : { ...base, stage: 'no-agent', detail: 'no guest agent answers' };
  if (seeded) {
    try {
      const r = await runCheck(engine, config, 'cloud-init');
      if (!r.ok) return { ...base, stage: 'cloud-init', detail: r.detail };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof HangarError && err.code !== 'TIMEOUT')
        return { ...base, stage: 'failed', cloudInit: 'error', detail: message };
      return { ...base, stage: 'cloud-init', detail: `asking about cloud-init: ${message}` };
    }
  }
  const cloudInit = seeded ? ('done' as const) : null;
  const nic = config.nics[0];
  const found = nic ? await addressOf(agent, nic.mac, 3_000).catch(() => null) : null;
  const ip = found?.ipv4 ?? found?.ipv6 ?? null;
  return ip
    ? { stage: 'ready', detail: `address ${ip}`, ip, ssh, cloudInit }
    : { stage: 'agent', detail: 'waiting for an address on the NIC', ip: null, ssh, cloudInit };
}

function same(a: Readiness | null, b: Readiness): boolean {
  return (
    a !== null &&
    a.stage === b.stage &&
    a.detail === b.detail &&
    a.ip === b.ip &&
    a.cloudInit === b.cloudInit &&
    a.ssh?.port === b.ssh?.port &&
    a.ssh?.user === b.ssh?.user
  );
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

interface Watched {
  stopped: boolean;
  last: Readiness | null;
  /** Rounds in a row without an agent, for the back-off. */
  silent: number;
}

export class ReadinessWatch {
  private readonly watched = new Map<string, Watched>();
  private enabled = false;

  constructor(private readonly engine: EngineContext) {}

  /** Starts watching every running VM, and each one that starts from now on. Idempotent. */
  enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.engine.on('state', (s) => {
      if (s.state === 'running') this.watch(s.id);
      else if (s.state === 'stopped' || s.state === 'crashed') this.unwatch(s.id);
    });
    for (const e of this.engine.store.list()) {
      if (this.engine.runtime(e.id).state === 'running') this.watch(e.id);
    }
  }

  /** The latest answer for a VM, or null when it is not running or not watched. */
  current(id: string): Readiness | null {
    return this.watched.get(id)?.last ?? null;
  }

  close(): void {
    for (const w of this.watched.values()) w.stopped = true;
    this.watched.clear();
  }

  private watch(id: string): void {
    if (this.watched.has(id)) return;
    const w: Watched = { stopped: false, last: null, silent: 0 };
    this.watched.set(id, w);
    void this.loop(id, w);
  }

  private unwatch(id: string): void {
    const w = this.watched.get(id);
    if (!w) return;
    w.stopped = true;
    this.watched.delete(id);
    if (w.last) this.engine.emit('readiness', { id, readiness: null });
  }

  private async loop(id: string, w: Watched): Promise<void> {
    while (!w.stopped) {
      const delay = await this.round(id, w).catch(() => SETTLED_MS);
      await sleep(delay);
    }
  }

  private async round(id: string, w: Watched): Promise<number> {
    if (this.engine.runtime(id).state !== 'running' || this.engine.busyWith(id)) return BOOTING_MS;
    const config = this.engine.store.load(id);
    const r = await assess(this.engine, config);
    if (w.stopped) return 0;
    if (!same(w.last, r)) {
      w.last = r;
      this.engine.emit('readiness', { id, readiness: r });
    }
    if (r.stage === 'no-agent') {
      w.silent++;
      return Math.min(NO_AGENT_MAX_MS, BOOTING_MS * 2 ** Math.min(w.silent, 4));
    }
    w.silent = 0;
    return r.stage === 'ready' || r.stage === 'failed' ? SETTLED_MS : BOOTING_MS;
  }
}

/** The engine's readiness watch, made on first use and stopped when the engine closes. */
export const readinessOf = perEngine((engine) => new ReadinessWatch(engine));
