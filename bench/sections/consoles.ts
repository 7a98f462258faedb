// Console bridges of a real `hangar serve`: bytes through /console/serial/<id> and
// /console/vnc/<id> against the same bytes read from the VM's UNIX sockets directly. QEMU serves
// one serial client at a time, so the two paths take turns on the same running guest.
import WebSocket from 'ws';
import { vmPaths } from '../../src/main/engine/config/paths';
import type { VmConfig } from '../../src/shared/vm';
import { cpuDeltaNs, now, reps, sleep, step, tempHome, threadCpuNs } from '../lib/env';
import { guestRequest, startServe, waitReady, type Served } from '../lib/hangar';
import { connectUnix, readUntil } from '../lib/raw';
import { Rfb, type Pipe } from '../lib/rfb';
import { row, type Row } from '../lib/stats';

/** Lines of `seq`: about 260 kB, a few seconds at the ~90 kB/s a 16550 UART manages under TCG. */
const SEQ_LINES = 40_000;

async function unixPipe(path: string): Promise<Pipe> {
  const s = await connectUnix(path);
  s.setNoDelay?.(true);
  return { write: (b) => s.write(b), onData: (fn) => s.on('data', fn), close: () => s.destroy() };
}

async function bridgePipe(served: Served, kind: 'vnc' | 'serial', id: string): Promise<Pipe> {
  const ws = new WebSocket(
    `ws://127.0.0.1:${served.port}${served.basePath}console/${kind}/${id}?token=${served.token}`,
    ['binary'],
    {
      headers: { Origin: served.origin },
      perMessageDeflate: false,
    },
  );
  ws.binaryType = 'nodebuffer';
  // Listening from the start: QEMU's VNC greeting can come in the same TCP read as the upgrade
  // reply, and ws emits it before code awaiting 'open' has had a chance to subscribe.
  const early: Buffer[] = [];
  let deliver: ((b: Buffer) => void) | null = null;
  ws.on('message', (d: Buffer) => (deliver ? deliver(d) : early.push(d)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    write: (b) => ws.send(b),
    onData: (fn) => {
      deliver = fn;
      for (const b of early.splice(0)) fn(b);
    },
    close: () => ws.terminate(),
  };
}

interface SerialRound {
  rate: number;
  perChunk: number;
  /** CPU of the engine process and of this process while the round ran, % of one core. */
  engineCpu: number;
  benchCpu: number;
}

/**
 * Runs `seq` in the guest's shell; kB/s from sending the line to the end marker, and bytes per
 * read (direct) or per WebSocket frame (bridge), which shows how finely QEMU hands them out.
 */
async function serialRound(pipe: Pipe, round: number, enginePid: number): Promise<SerialRound> {
  try {
    // $((6*7)) prints as 42, so the echo of the typed line itself never matches the marker.
    const marker = `BENCH-42-END-${round}`;
    const done = readUntil(pipe.onData, marker, 120_000);
    const engine0 = threadCpuNs(enginePid);
    const bench0 = process.cpuUsage();
    const t0 = now();
    pipe.write(Buffer.from(`seq 1 ${SEQ_LINES}; echo BENCH-$((6*7))-END-${round}\n`));
    const r = await done;
    const ms = r.at - t0;
    const bench = process.cpuUsage(bench0);
    return {
      rate: r.bytes / ms, // bytes per ms = kB/s
      perChunk: r.bytes / r.chunks,
      engineCpu: (cpuDeltaNs(engine0, threadCpuNs(enginePid)) / 1e6 / ms) * 100,
      benchCpu: ((bench.user + bench.system) / 1e3 / ms) * 100,
    };
  } finally {
    pipe.close();
  }
}

export async function run(): Promise<Row[]> {
  const h = tempHome('consoles');
  const served = await startServe(h);
  const vm = (await served.api.call('vm.create', guestRequest('bench-console', 256, null))) as VmConfig;
  const paths = vmPaths(h.home, vm.id, h.env);
  await served.api.call('vm.start', { vm: vm.id });
  await waitReady(paths.serialSocket);
  step('guest ready; serial rounds');
  // Let the shell print its prompt and settle before the first round.
  await sleep(1000);

  const serial: SerialRound[][] = [[], []];
  await serialRound(await unixPipe(paths.serialSocket), 0, served.pid); // warm-up: the guest pages seq in
  for (let i = 1; i <= reps(4, 3); i++) {
    const viaBridge = async () =>
      serial[0]!.push(await serialRound(await bridgePipe(served, 'serial', vm.id), i * 2, served.pid));
    const direct = async () =>
      serial[1]!.push(await serialRound(await unixPipe(paths.serialSocket), i * 2 + 1, served.pid));
    if (i % 2) await direct().then(viaBridge);
    else await viaBridge().then(direct);
  }
  const [serialH, serialR] = serial.map((side) => side.map((x) => x.rate));
  const mean = (side: number, k: keyof SerialRound) => avg(serial[side]!.map((x) => x[k]));

  const vnc = { handshake: [[], []], ping: [[], []], first: [[], []], rate: [[], []] } as Record<
    string,
    number[][]
  >;
  let size = '';
  const vncRound = async (side: 0 | 1) => {
    const t0 = now();
    const pipe = side === 0 ? await bridgePipe(served, 'vnc', vm.id) : await unixPipe(paths.vncSocket);
    const rfb = new Rfb(pipe);
    try {
      await rfb.handshake().catch((err: Error) => {
        throw new Error(`${side === 0 ? 'bridge' : 'direct'} VNC handshake: ${err.message}`);
      });
      vnc.handshake![side]!.push(now() - t0);
      size = `${rfb.width}x${rfb.height}x${rfb.bytesPerPixel * 8}`;
      for (let k = 0; k < 5; k++) vnc.ping![side]!.push(await rfb.ping());
      for (let k = 0; k < 3; k++) {
        const u = await rfb.fullUpdate();
        vnc.first![side]!.push(u.firstMs);
        // From the first byte to the last: the transfer itself, without QEMU's refresh timer.
        vnc.rate![side]!.push(u.bytes / 1048.576 / (u.totalMs - u.firstMs)); // MiB/s
      }
    } finally {
      rfb.close();
      // Both sides get the same quiet moment: QEMU lets go of the previous VNC client first (a
      // bridge's socket closes a little after its WebSocket), as when a user opens a console.
      await sleep(100);
    }
  };
  step('VNC rounds');
  await vncRound(0);
  await vncRound(1);
  for (const k of Object.keys(vnc)) vnc[k] = [[], []];
  for (let i = 0; i < reps(20, 5); i++) {
    if (i % 2) await vncRound(1).then(() => vncRound(0));
    else await vncRound(0).then(() => vncRound(1));
  }
  await served.stop();

  const base = { section: 'consoles', baselineLabel: 'direct UNIX socket' };
  const v = (k: string) => ({ hangar: vnc[k]![0]!, baseline: vnc[k]![1]! });
  return [
    row({
      ...base,
      figure: `serial throughput, \`seq 1 ${SEQ_LINES}\` (higher is better)`,
      unit: 'kB/s',
      hangar: serialH!,
      baseline: serialR!,
      paired: true,
      note:
        `bytes per frame ${mean(0, 'perChunk')} via the bridge, per read ${mean(1, 'perChunk')} direct; ` +
        `CPU (% of a core) engine ${mean(0, 'engineCpu')} + reader ${mean(0, 'benchCpu')} via the bridge, ` +
        `reader ${mean(1, 'benchCpu')} direct`,
    }),
    row({ ...base, figure: 'VNC connect + RFB handshake', unit: 'ms', ...v('handshake'), target: '≤ 1.5' }),
    row({
      ...base,
      figure: 'VNC round trip (SetEncodings → immediate ack): added latency',
      unit: 'ms',
      ...v('ping'),
    }),
    row({
      ...base,
      figure: `VNC full-screen update (raw, ${size}), request to first byte`,
      unit: 'ms',
      ...v('first'),
      note: "mostly QEMU's adaptive VNC refresh timer, the same on both paths",
    }),
    row({
      ...base,
      figure: 'VNC full-screen update, first to last byte (higher is better)',
      unit: 'MiB/s',
      ...v('rate'),
      target: '≥ 0.95',
    }),
  ];
}

const avg = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)).toFixed(1);
