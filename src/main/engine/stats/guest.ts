// The guest's own figures through its agent: network counters of its interfaces (loopback left
// out) and MemTotal/MemAvailable from /proc/meminfo. The guest is untrusted: shapes are checked,
// numbers bounded, and a guest without an agent simply has none (null).
import { z } from 'zod';
import type { EngineContext } from '../context';
import { readSmall } from '../ready/checks';

const Interfaces = z
  .array(
    z
      .object({
        name: z.string().max(256),
        statistics: z
          .object({ 'rx-bytes': z.number().nonnegative(), 'tx-bytes': z.number().nonnegative() })
          .loose()
          .optional(),
      })
      .loose(),
  )
  .max(1024);

export interface GuestReading {
  at: number;
  memory: { totalBytes: number; availableBytes: number } | null;
  net: { rx: number; tx: number } | null;
}

async function meminfo(engine: EngineContext, id: string): Promise<GuestReading['memory']> {
  const text = await readSmall(engine, id, '/proc/meminfo', 64 * 1024);
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text ?? '')?.[1]);
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  return Number.isFinite(total) && Number.isFinite(available)
    ? { totalBytes: total * 1024, availableBytes: available * 1024 }
    : null;
}

/** One reading, or nulls when no agent answers (quickly: a silent agent is the common case). */
export async function guestReading(engine: EngineContext, id: string): Promise<GuestReading> {
  const at = Date.now();
  const agent = engine.agent(id);
  if (!(await agent.ping(1_000))) return { at, memory: null, net: null };
  const reply = await agent.execute('guest-network-get-interfaces', undefined, 2_000);
  let net: GuestReading['net'] = null;
  if (reply.ok) {
    const parsed = Interfaces.safeParse(reply.value);
    if (parsed.success) {
      const real = parsed.data.filter((i) => i.name !== 'lo' && i.statistics);
      if (real.length)
        net = real.reduce(
          (sum, i) => ({ rx: sum.rx + i.statistics!['rx-bytes'], tx: sum.tx + i.statistics!['tx-bytes'] }),
          { rx: 0, tx: 0 },
        );
    }
  }
  const memory = await meminfo(engine, id).catch(() => null);
  return { at, memory, net };
}
