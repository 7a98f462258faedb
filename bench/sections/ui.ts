// The UI at scale: a real `hangar serve` with 1, 200 and 1,000 VMs defined, its renderer in
// Debian's Chromium. The 1-VM home is the baseline: the ratios say how the UI and the engine
// process grow with the number of VMs, which is what the absolute numbers cannot say here.
import type { Browser, Page } from '@playwright/test';
import { defineVms } from '../lib/define';
import { reps, rssKiB, tempHome } from '../lib/env';
import { launchBrowser, newContext } from '../lib/browser';
import { startServe } from '../lib/hangar';
import { row, type Row } from '../lib/stats';

/** Navigation start (performance.now() = 0 of the page) to the first visible VM card. */
async function timeToInteractive(browser: Browser, url: string): Promise<number> {
  const context = await newContext(browser);
  try {
    const page = await context.newPage();
    await page.addInitScript(() => {
      const w = window as unknown as { __benchTti?: number };
      const check = () => {
        const card = document.querySelector('[data-testid="vm-card"]');
        if (!card || card.getBoundingClientRect().height === 0) return;
        w.__benchTti = performance.now();
        observer.disconnect();
      };
      const observer = new MutationObserver(check);
      observer.observe(document, { childList: true, subtree: true });
    });
    await page.goto(url);
    await page.waitForSelector('[data-testid="vm-card"]', { state: 'visible', timeout: 120_000 });
    return await page.evaluate(() => (window as unknown as { __benchTti: number }).__benchTti);
  } finally {
    await context.close();
  }
}

/**
 * Stamps every config event as the app's own WebSocket receives it: a listener added in the
 * constructor runs before any the app adds, so this is the moment the event reaches the page.
 */
const STAMP_EVENTS = `
  window.__benchEventAt = {};
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (m) => {
        if (typeof m.data !== 'string' || !m.data.startsWith('{"event":"config"')) return;
        const name = JSON.parse(m.data).data?.config?.name;
        if (name && !(name in window.__benchEventAt)) window.__benchEventAt[name] = performance.now();
      });
    }
  };`;

/**
 * Renames the first card's VM through the API from inside the page and times, on the page's one
 * clock, the config event reaching the app's socket (the baseline) and the card's text changing.
 */
async function renames(page: Page, n: number, round: string): Promise<{ dom: number[]; event: number[] }> {
  const id = await page.locator('[data-testid="vm-card"]').first().getAttribute('data-vm-id');
  return page.evaluate(
    async ({ id, n, round }) => {
      const stamps = (window as unknown as { __benchEventAt: Record<string, number> }).__benchEventAt;
      // Beside the page: the server serves everything under its secret base path.
      const ws = new WebSocket(`ws://${location.host}${location.pathname.replace(/[^/]*$/, '')}api`);
      await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)));
      const card = () => document.querySelector(`[data-vm-id="${id}"] [data-testid="card-name"]`);
      const orig = card()?.textContent ?? '';
      const dom: number[] = [];
      const event: number[] = [];
      for (let k = 0; k < n; k++) {
        // A suffix keeps the card first in the name-sorted grid.
        const name = `${orig}-${round}${k}`;
        const gotDom = new Promise<number>((resolve) => {
          const observer = new MutationObserver(() => {
            if (card()?.textContent !== name) return;
            observer.disconnect();
            resolve(performance.now());
          });
          observer.observe(document.body, { subtree: true, childList: true, characterData: true });
        });
        const t0 = performance.now();
        ws.send(JSON.stringify({ id: k + 1, method: 'vm.edit', params: { vm: id, patch: { name } } }));
        const td = await gotDom;
        const te = stamps[name];
        if (te === undefined) throw new Error('the app saw no config event for the rename');
        event.push(te - t0);
        dom.push(td - t0);
      }
      ws.close();
      return { dom, event };
    },
    { id, n, round },
  );
}

interface Sample {
  tti: number[];
  dom: number[];
  event: number[];
  rss: number[];
}

async function measure(browser: Browser, count: number): Promise<Sample> {
  const h = tempHome(`ui${count}`);
  await defineVms(h.home, h.env, count);
  const served = await startServe(h);
  const s: Sample = { tti: [], dom: [], event: [], rss: [] };
  await timeToInteractive(browser, served.url); // warm-up: the first load fills the server's caches
  for (let i = 0; i < reps(5, 2); i++) {
    s.tti.push(await timeToInteractive(browser, served.url));
    s.rss.push(rssKiB(served.pid) / 1024);
  }
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.addInitScript({ content: STAMP_EVENTS });
  await page.goto(served.url);
  await page.waitForSelector('[data-testid="vm-card"]', { state: 'visible', timeout: 120_000 });
  await renames(page, 5, 'w'); // warm-up
  const r = await renames(page, reps(40, 10), 'r');
  s.dom = r.dom;
  s.event = r.event;
  s.rss.push(rssKiB(served.pid) / 1024);
  await context.close();
  await served.stop();
  h.dispose();
  return s;
}

export async function run(): Promise<Row[]> {
  const browser = await launchBrowser();
  const one = await measure(browser, 1);
  const rows: Row[] = [];
  const at: Record<number, Sample> = {};
  for (const count of [200, 1000]) {
    const s = await measure(browser, count);
    at[count] = s;
    const eventToDom = s.dom.map((d, i) => d - s.event[i]!).sort((a, b) => a - b);
    const p95 = eventToDom[Math.ceil(0.95 * eventToDom.length) - 1]!;
    rows.push(
      row({
        section: 'ui',
        figure: `time to interactive (first VM card visible), ${count} VMs`,
        unit: 'ms',
        hangar: s.tti,
        baseline: one.tti,
        baselineLabel: 'same with 1 VM',
        target: count === 1000 ? '≤ 1.5' : undefined,
      }),
      row({
        section: 'ui',
        figure: `vm.edit → card name in the DOM, p95, ${count} VMs`,
        unit: 'ms',
        pick: 'p95',
        hangar: s.dom,
        baseline: s.event,
        baselineLabel: "vm.edit → config event at the app's WebSocket",
        note: `event-to-DOM alone: p95 ${p95.toFixed(1)} ms`,
      }),
      row({
        section: 'ui',
        figure: `engine process RSS (hangar serve), ${count} VMs`,
        unit: 'MiB',
        hangar: s.rss,
        baseline: one.rss,
        baselineLabel: 'same with 1 VM',
      }),
    );
  }
  // The figure: how the rename's p95 grows from 200 to 1,000 VMs (flat is the aim).
  rows.push(
    row({
      section: 'ui',
      figure: 'vm.edit → card name in the DOM, p95, 1000 VMs against 200',
      unit: 'ms',
      pick: 'p95',
      hangar: at[1000]!.dom,
      baseline: at[200]!.dom,
      baselineLabel: 'the same at 200 VMs',
      target: '≤ 1.2',
    }),
  );
  return rows;
}
