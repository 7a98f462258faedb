// Live performance figures of running VMs, sampled once a second and kept for ten minutes in
// memory: CPU and memory of the QEMU process from /proc, disk I/O from QMP's query-blockstats,
// and, where the guest has an agent, its network counters and its own view of memory (asked every
// five seconds: the agent is the guest's, and slower). Off until something asks for figures, like
// the readiness watch; timers are unref'd so a CLI process can still end.
import type { StatsSample } from '../../../shared/api-types';
import type { EngineContext } from '../context';
import { perEngine } from '../per-engine';
import { guestReading, type GuestReading } from './guest';
import { procTimes, TICKS_PER_SECOND, type ProcTimes } from './proc';

const INTERVAL_MS = 1_000;
export const KEEP_SAMPLES = 600;
const GUEST_EVERY = 5;

interface Counters {
  at: number;
  proc: ProcTimes | null;
  disks: Map<string, { rb: number; wb: number; ro: number; wo: number }>;
}

interface Track {
  pid: number;
  last: Counters | null;
  samples: StatsSample[];
  round: number;
  /** The latest two guest readings: network rates come from their difference. */
  guest: GuestReading | null;
  guestBefore: GuestReading | null;
  guestBusy: boolean;
}

export interface BlockStats {
  device?: string;
  qdev?: string;
  'node-name'?: string;
  stats: { rd_bytes: number; wr_bytes: number; rd_operations: number; wr_operations: number };
}

/**
 * A disk's id from query-blockstats: the id Hangar gave it (disk0, seed, cd0). Devices are
 * `<id>-dev` (qemu/devices.ts); a CD-ROM's backend is the `<id>-media` node.
 */
export function diskId(b: BlockStats): string {
  const m = /peripheral\/([^/]+)/.exec(b.qdev ?? '');
  const name = m?.[1] ?? b['node-name'] ?? b.device ?? '?';
  return name.replace(/-(dev|media)$/, '').slice(0, 64);
}

const rate = (now: number, then: number, seconds: number) => Math.max(0, (now - then) / seconds);

/** Bytes a second between the two latest guest readings; null when the guest gives no counters. */
function netRate(now: GuestReading | null, before: GuestReading | null): StatsSample['net'] {
  if (!now?.net) return null;
  if (!before?.net) return { rxBytes: 0, txBytes: 0 };
  const seconds = Math.max(0.001, (now.at - before.at) / 1000);
  return {
    rxBytes: Math.round(rate(now.net.rx, before.net.rx, seconds)),
    txBytes: Math.round(rate(now.net.tx, before.net.tx, seconds)),
  };
}

export class StatsSampler {
  private readonly tracks = new Map<string, Track>();
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;

  constructor(private readonly engine: EngineContext) {}

  /** Starts sampling (idempotent). */
  enable(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), INTERVAL_MS);
    this.timer.unref();
    void this.tick();
  }

  get enabled(): boolean {
    return this.timer !== null;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.tracks.clear();
  }

  /** The samples kept for a VM, oldest first. */
  history(id: string): StatsSample[] {
    return this.tracks.get(id)?.samples.slice() ?? [];
  }

  /** The latest sample of every running VM. */
  latest(): { id: string; sample: StatsSample }[] {
    return [...this.tracks].flatMap(([id, t]) => {
      const sample = t.samples.at(-1);
      return sample ? [{ id, sample }] : [];
    });
  }

  private async tick(): Promise<void> {
    // A slow round (a QMP reply held up) is not stacked on: the next one waits for it.
    if (this.sampling) return;
    this.sampling = true;
    try {
      const batch: { id: string; sample: StatsSample }[] = [];
      const running = new Set<string>();
      for (const [id, pid] of this.engine.runningPids()) {
        running.add(id);
        let t = this.tracks.get(id);
        if (!t || t.pid !== pid) {
          t = { pid, last: null, samples: [], round: 0, guest: null, guestBefore: null, guestBusy: false };
          this.tracks.set(id, t);
        }
        const sample = await this.sample(id, t).catch(() => null);
        if (sample) {
          t.samples.push(sample);
          if (t.samples.length > KEEP_SAMPLES) t.samples.splice(0, t.samples.length - KEEP_SAMPLES);
          batch.push({ id, sample });
        }
      }
      for (const id of this.tracks.keys()) if (!running.has(id)) this.tracks.delete(id);
      if (batch.length) this.engine.emit('stats', { samples: batch });
    } finally {
      this.sampling = false;
    }
  }

  private async sample(id: string, t: Track): Promise<StatsSample | null> {
    const at = Date.now();
    const proc = procTimes(t.pid);
    // The runtime's own client: no vm.json read per VM per second.
    const blocks = (await Promise.resolve()
      .then(() => this.engine.runtime(id).qmp())
      .then((q) => q.execute('query-blockstats', undefined, { timeoutMs: 2_000 }))
      .catch(() => [])) as BlockStats[];
    const disks = new Map(
      blocks.map((b) => [
        diskId(b),
        { rb: b.stats.rd_bytes, wb: b.stats.wr_bytes, ro: b.stats.rd_operations, wo: b.stats.wr_operations },
      ]),
    );
    // The guest is asked in the background, never holding up the host's figures.
    if (t.round++ % GUEST_EVERY === 0 && !t.guestBusy && !this.engine.busyWith(id)) {
      t.guestBusy = true;
      void guestReading(this.engine, id)
        .then((g) => {
          t.guestBefore = t.guest;
          t.guest = g;
        })
        .catch(() => undefined)
        .finally(() => (t.guestBusy = false));
    }
    const now: Counters = { at, proc, disks };
    const last = t.last;
    t.last = now;
    if (!last) return null; // rates need two readings
    const seconds = Math.max(0.001, (at - last.at) / 1000);
    return {
      at,
      cpuPercent:
        proc && last.proc
          ? +((rate(proc.ticks, last.proc.ticks, seconds) / TICKS_PER_SECOND) * 100).toFixed(1)
          : null,
      rssBytes: proc?.rssBytes ?? null,
      guestMemory: t.guest?.memory ?? null,
      disks: [...disks].flatMap(([disk, d]) => {
        const p = last.disks.get(disk);
        return p
          ? [
              {
                id: disk,
                readBytes: Math.round(rate(d.rb, p.rb, seconds)),
                writeBytes: Math.round(rate(d.wb, p.wb, seconds)),
                readOps: Math.round(rate(d.ro, p.ro, seconds)),
                writeOps: Math.round(rate(d.wo, p.wo, seconds)),
              },
            ]
          : [];
      }),
      net: netRate(t.guest, t.guestBefore),
    };
  }
}

/** The engine's sampler, made on first use and stopped when the engine closes. */
export const statsOf = perEngine((engine) => new StatsSampler(engine));
