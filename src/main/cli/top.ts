// `hangar top`: one line per running VM, refreshed every second, like virt-top: CPU as % of a host
// core, QEMU's memory on the host (and the guest's own view when its agent answers), disk and
// network bytes a second. --json prints each round's samples as one JSON line (for scripts);
// --iterations N stops after N rounds (default: until Ctrl-C).
import type { ApiResults } from '../../shared/api';
import type { StatsSample } from '../../shared/api-types';
import type { Ctx } from './commands';
import { call } from './commands';
import { int } from './options';

type Row = ApiResults['host.stats']['vms'][number];

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)}${units[i]}`;
}

function diskTotals(s: StatsSample): { read: number; write: number } {
  return s.disks.reduce((t, d) => ({ read: t.read + d.readBytes, write: t.write + d.writeBytes }), {
    read: 0,
    write: 0,
  });
}

const pad = (text: string, width: number, right = false) =>
  right ? text.slice(0, width).padStart(width) : text.slice(0, width).padEnd(width);

export function topTable(rows: Row[]): string {
  const head = `${pad('NAME', 24)} ${pad('CPU%', 6, true)} ${pad('RSS', 7, true)} ${pad('GUEST MEM', 11, true)} ${pad('DISK R/s', 9, true)} ${pad('DISK W/s', 9, true)} ${pad('NET RX/s', 9, true)} ${pad('NET TX/s', 9, true)}`;
  if (rows.length === 0) return `${head}\n(no running VMs)`;
  const lines = [...rows]
    .sort((a, b) => (b.sample.cpuPercent ?? 0) - (a.sample.cpuPercent ?? 0))
    .map(({ name, sample: s }) => {
      const d = diskTotals(s);
      const mem = s.guestMemory
        ? `${bytes(s.guestMemory.totalBytes - s.guestMemory.availableBytes)}/${bytes(s.guestMemory.totalBytes)}`
        : '-';
      return [
        pad(name, 24),
        pad(s.cpuPercent === null ? '-' : s.cpuPercent.toFixed(1), 6, true),
        pad(bytes(s.rssBytes), 7, true),
        pad(mem, 11, true),
        pad(bytes(d.read), 9, true),
        pad(bytes(d.write), 9, true),
        pad(s.net ? bytes(s.net.rxBytes) : 'n/a', 9, true),
        pad(s.net ? bytes(s.net.txBytes) : 'n/a', 9, true),
      ].join(' ');
    });
  return [head, ...lines].join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function top(ctx: Ctx): Promise<void> {
  const rounds = int(ctx.values, 'iterations') ?? Infinity;
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGINT', onSignal);
  try {
    // The first call starts sampling; figures are rates, so the first lines come a second later.
    await call(ctx, 'host.stats', {});
    const clear = process.stdout.isTTY && !ctx.json;
    for (let i = 0; i < rounds && !stop; i++) {
      await sleep(1_100);
      const { vms } = await call(ctx, 'host.stats', {});
      if (ctx.json) {
        console.log(JSON.stringify({ at: new Date().toISOString(), vms }));
      } else {
        if (clear) process.stdout.write('\x1b[H\x1b[2J');
        console.log(topTable(vms));
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
}
