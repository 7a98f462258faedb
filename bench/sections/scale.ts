// Scale: 8 small VMs (TCG, 128 MiB, direct kernel boot, no disk) started at once through a real
// `hangar serve`, then left idle. What the engine process costs per VM is set against what each
// VM's own QEMU costs, measured over the same seconds: a ratio that means something on a noisy
// 2-core machine, where a bare CPU percentage would not.
import { existsSync, readFileSync } from 'node:fs';
import { vmPaths } from '../../src/main/engine/config/paths';
import type { VmConfig } from '../../src/shared/vm';
import { cpuDeltaNs, guest, now, rssKiB, sleep, tempHome, threadCpuNs } from '../lib/env';
import { guestRequest, startServe } from '../lib/hangar';
import { launchBrowser, newContext } from '../lib/browser';
import { row, type Row } from '../lib/stats';

const VMS = 8;
const WINDOW_S = 5;
const IDLE_SECONDS = 15;
/** Three rounds of the UI's 5 s thumbnail polling. */
const UI_SECONDS = 15;
const BOOT_TIMEOUT_MS = 300_000;

/** The serial log since the latest start holds the ready marker (polling: no console is held). */
function ready(serialLog: string, marker: string): boolean {
  if (!existsSync(serialLog)) return false;
  const text = readFileSync(serialLog, 'latin1');
  return text.slice(text.lastIndexOf('[hangar: VM started]')).includes(marker);
}

/**
 * CPU use (% of one core) summed over `pids` in windows of 5 s, the UI's thumbnail interval (a
 * shorter window would catch a poll or miss it), and the RSS (MiB) at the end of each window.
 */
async function idle(pids: number[], seconds: number): Promise<{ cpu: number[]; rss: number[] }> {
  const sample = () => pids.map((p) => threadCpuNs(p));
  const cpu: number[] = [];
  const rss: number[] = [];
  let before = sample();
  let t = now();
  for (let i = 0; i < seconds / WINDOW_S; i++) {
    await sleep(WINDOW_S * 1000);
    const after = sample();
    const t2 = now();
    const ns = after.reduce((sum, a, k) => sum + cpuDeltaNs(before[k]!, a), 0);
    cpu.push((ns / 1e6 / (t2 - t)) * 100);
    rss.push(pids.reduce((sum, p) => sum + rssKiB(p), 0) / 1024);
    before = after;
    t = t2;
  }
  return { cpu, rss };
}

export async function run(): Promise<Row[]> {
  const h = tempHome('scale');
  const served = await startServe(h);
  const marker = guest().readyMarker;
  const vms: VmConfig[] = [];
  for (let i = 0; i < VMS; i++)
    vms.push((await served.api.call('vm.create', guestRequest(`bench-scale-${i}`, 128, null))) as VmConfig);
  const paths = vms.map((vm) => vmPaths(h.home, vm.id, h.env));
  await sleep(2000);
  // The engine with 8 VMs defined and none running: where its per-VM increments start from.
  const none = await idle([served.pid], IDLE_SECONDS);

  const t0 = now();
  await Promise.all(vms.map((vm) => served.api.call('vm.start', { vm: vm.id })));
  while (!paths.every((p) => ready(p.serialLog, marker))) {
    if (now() - t0 > BOOT_TIMEOUT_MS)
      throw new Error(`not all ${VMS} VMs were ready within ${BOOT_TIMEOUT_MS / 1000} s`);
    await sleep(200);
  }
  const allReady = now() - t0;
  await sleep(3000); // let the guests' last boot work settle before measuring idle
  const qemuPids = paths.map((p) => Number(readFileSync(p.pidFile, 'utf8').trim()));
  const [engine, qemus] = await Promise.all([idle([served.pid], IDLE_SECONDS), idle(qemuPids, IDLE_SECONDS)]);
  const qemuRss = qemuPids.map((p) => rssKiB(p) / 1024);
  // The same with the UI open: its cards poll a thumbnail (vm.screenshot) of each VM every 5 s.
  const browser = await launchBrowser();
  const page = await (await newContext(browser)).newPage();
  await page.goto(served.url);
  await page.waitForSelector('[data-testid="vm-card"][data-state="running"]', { timeout: 60_000 });
  await sleep(5000);
  const withUi = await idle([served.pid], UI_SECONDS);
  await browser.close();
  await served.stop();

  const perVm = (xs: number[]) => xs.map((x) => x / VMS);
  const base = { section: 'scale' };
  return [
    row({
      ...base,
      figure: `engine CPU per idle VM, ${VMS} running (5 s windows)`,
      unit: '% core',
      hangar: perVm(engine.cpu),
      baseline: perVm(qemus.cpu),
      baselineLabel: "each idle VM's own QEMU",
      note: `engine total ${median(engine.cpu).toFixed(3)}% of a core with ${VMS} running, ${median(none.cpu).toFixed(3)}% with none`,
    }),
    row({
      ...base,
      figure: `engine CPU per idle VM, ${VMS} running, UI open in Chromium (live thumbnails)`,
      unit: '% core',
      pick: 'median',
      hangar: perVm(withUi.cpu),
      baseline: perVm(qemus.cpu),
      baselineLabel: "each idle VM's own QEMU (measured without the UI)",
      note: `engine total ${median(withUi.cpu).toFixed(2)}% of a core; RSS ${median(withUi.rss).toFixed(1)} MiB`,
    }),
    row({
      ...base,
      // The increment, not the total over 8: the engine's own base (Node, the UI's files) is
      // not a cost of the VMs.
      figure: `engine RSS per running VM (increment from 0 to ${VMS} running, / ${VMS})`,
      unit: 'MiB',
      hangar: engine.rss.map((x) => (x - median(none.rss)) / VMS),
      baseline: qemuRss,
      baselineLabel: "each VM's QEMU RSS (128 MiB guest)",
      note: `engine RSS ${median(none.rss).toFixed(1)} MiB with none running, ${median(engine.rss).toFixed(1)} MiB with ${VMS}`,
    }),
    row({
      ...base,
      figure: `engine RSS with ${VMS} VMs running`,
      unit: 'MiB',
      hangar: engine.rss,
      baseline: none.rss,
      baselineLabel: `same engine, ${VMS} VMs defined, none running`,
      note: 'differences of a few MiB are garbage collection, not VMs',
    }),
    row({
      ...base,
      figure: `all ${VMS} started at once until every ready marker`,
      unit: 's',
      hangar: [allReady / 1000],
      note: 'absolute, for context: 8 TCG guests share 2 cores',
    }),
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
