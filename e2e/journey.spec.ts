// The whole journey a person takes, in Debian's Chromium against a real engine and real QEMU:
// create a VM through the wizard from the test ISO, chosen in the file picker window, start it,
// see the guest in the noVNC canvas, use the serial console, snapshot, change, revert, shut down
// through ACPI, delete.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, expect, guestIso, readyMarker, type Hangar } from './fixtures';
import { ListPage } from './pages/ListPage';
import { WizardPage } from './pages/WizardPage';
import { DetailPage } from './pages/DetailPage';

const shots = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const NAME = 'e2e guest, "ünï" 🚀';

/** Fraction of pixels of the noVNC canvas that equal the guest's own screendump. */
async function canvasMatchesScreendump(
  page: import('@playwright/test').Page,
  hangar: Hangar,
  id: string,
): Promise<number> {
  const file = join(hangar.home, `screen-${Date.now()}.png`);
  expect(hangar.cli(['screenshot', id, file]).code).toBe(0);
  const png = readFileSync(file).toString('base64');
  return page.evaluate(async (b64) => {
    const canvas = document.querySelector('[data-testid="vnc-screen"] canvas') as HTMLCanvasElement | null;
    if (!canvas) return 0;
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    if (img.width !== canvas.width || img.height !== canvas.height) return 0;
    const off = new OffscreenCanvas(img.width, img.height);
    const octx = off.getContext('2d')!;
    octx.drawImage(img, 0, 0);
    const want = octx.getImageData(0, 0, img.width, img.height).data;
    const got = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let same = 0;
    let lit = 0;
    for (let i = 0; i < want.length; i += 4) {
      if (want[i] === got[i] && want[i + 1] === got[i + 1] && want[i + 2] === got[i + 2]) same++;
      if (want[i]! + want[i + 1]! + want[i + 2]! > 0) lit++;
    }
    // A blank screen would match a blank canvas; require text on it.
    return lit > 500 ? same / (want.length / 4) : 0;
  }, png);
}

test('create, start, console, serial, snapshot, revert, shut down, delete', async ({ page, hangar }) => {
  const list = new ListPage(page);
  const wizard = new WizardPage(page);
  const detail = new DetailPage(page);

  await page.goto(hangar.url);
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await page.screenshot({ path: join(shots, 'empty.png') });
  await list.newVm();
  await wizard.fill({ name: NAME, iso: guestIso, cpus: '1', memory: '256', diskSize: '64M' });
  await page.screenshot({ path: join(shots, 'wizard-review.png') });
  await wizard.create();

  await expect(page.getByTestId('vm-detail')).toBeVisible();
  await expect(page.getByTestId('detail-name')).toHaveText(NAME);
  const id = await detail.vmId();
  await page.getByTestId('detail-start').click();
  await detail.waitState('running');
  await expect(page.getByTestId('vnc-status')).toHaveText(/^connected$/i);

  // The ready marker is on the guest's screen once it is on serial (the guest prints both).
  expect(hangar.cli(['wait', id, '--serial', readyMarker, '--timeout', '120']).code).toBe(0);
  await expect
    .poll(() => canvasMatchesScreendump(page, hangar, id), { timeout: 30_000 })
    .toBeGreaterThan(0.98);
  await page.screenshot({ path: join(shots, 'console.png') });

  await detail.tab('serial');
  await detail.serialRun('echo hello-$((6*7))', /hello-42/);
  await detail.serialRun('echo v1 > /mnt/disk/state; sync; echo wrote-$((1+1))', /wrote-2/);
  await page.screenshot({ path: join(shots, 'serial.png') });

  await detail.tab('snapshots');
  await page.getByTestId('snapshot-take').click();
  await page.getByTestId('snapshot-name').fill('before change');
  await page.getByTestId('snapshot-save').click();
  const row = page.locator('[data-testid="snapshot-row"][data-snapshot-name="before change"]');
  await expect(row).toBeVisible();
  // Taken while running: the row shows the screen of that moment and the RAM it saved.
  await expect(row.getByTestId('snapshot-thumbnail')).toBeVisible();
  await expect(row.getByTestId('snapshot-ram')).toHaveText(/RAM \d+ MiB/);
  // The space it holds alone (its RAM and tables, as the disk has not changed since).
  await expect(row.getByTestId('snapshot-own')).toHaveText(/\d+ MiB of its own/);

  await detail.tab('serial');
  await detail.serialRun('echo v2 > /mnt/disk/state; sync; cat /mnt/disk/state', /^v2\s*$/m);

  await detail.tab('snapshots');
  await row.getByTestId('snapshot-revert').click();
  await detail.confirm();
  await expect(page.getByTestId('notice-error')).toHaveCount(0);
  // The revert is over when the VM is no longer busy with it (it stays 'running' throughout).
  await expect(page.getByTestId('detail-busy')).toHaveCount(0);
  await detail.waitState('running');
  await expect(row).toBeVisible();
  await page.screenshot({ path: join(shots, 'snapshots.png') });

  await detail.tab('serial');
  // Read from the disk, not from page cache that the RAM snapshot also restored.
  await detail.serialRun(
    'echo 3 > /proc/sys/vm/drop_caches; cat /mnt/disk/state; echo read-$((2+2))',
    /v1\s*\n.*read-4/,
  );

  // Live graphs: the history arrives, then a new sample each second, drawn on canvases.
  await detail.tab('performance');
  const perf = page.getByTestId('perf');
  await expect(perf).toBeVisible();
  await expect.poll(async () => Number(await perf.getAttribute('data-samples'))).toBeGreaterThan(2);
  const before = Number(await perf.getAttribute('data-samples'));
  await expect.poll(async () => Number(await perf.getAttribute('data-samples'))).toBeGreaterThan(before);
  for (const chart of ['perf-cpu', 'perf-memory', 'perf-disk'])
    await expect(page.getByTestId(chart).locator('canvas')).toBeVisible();
  // The test guest has no agent: its network figures are said to be unavailable, not drawn as 0.
  await expect(page.getByTestId('perf-net')).toContainText('Not available');
  await page.screenshot({ path: join(shots, 'performance.png') });
  await page.goto(hangar.url);
  await expect(
    page.locator(`[data-testid="vm-card"][data-vm-id="${id}"]`).getByTestId('card-sparkline'),
  ).toBeVisible();
  await page.locator(`[data-testid="vm-card"][data-vm-id="${id}"]`).getByTestId('card-name').click();

  await page.getByTestId('detail-shutdown').click();
  await detail.waitState('stopped', 90_000);
  expect((hangar.cli(['info', id]).json as { state: { reason: string } }).state.reason).toBe('shut down');

  // The Log tab tells the story, newest first; QEMU's own log (with its command line) is one click away.
  await detail.tab('log');
  const history = page.getByTestId('history-entry');
  await expect(history.first()).toContainText(/stop \(\d+ ms\)/);
  await expect(history.filter({ hasText: '→ stopped: shut down' }).first()).toBeVisible();
  await expect(history.filter({ hasText: 'snapshot' }).first()).toBeVisible();
  await expect(history.filter({ hasText: '→ running' }).first()).toBeVisible();
  await expect(history.filter({ hasText: 'revert' }).first()).toBeVisible();
  await expect(page.getByTestId('log-text')).toHaveCount(0);
  await page.getByTestId('log-show-qemu').check();
  await expect(page.getByTestId('log-text')).toContainText('qemu-system-x86_64');
  const cli = hangar.cli(['history', id]);
  expect(cli.code).toBe(0);
  expect((cli.json as { what: string }[]).map((e) => e.what)).toContain('snapshot');

  await page.getByTestId('detail-delete').click();
  await detail.confirm();
  await expect(page.getByTestId('empty-state')).toBeVisible();
  expect(hangar.cli(['info', id]).code).toBe(3);
});

test('error paths: invalid name, missing ISO, a start failure with its reason', async ({ page, hangar }) => {
  const list = new ListPage(page);
  const wizard = new WizardPage(page);
  await page.goto(hangar.url);
  await list.newVm();

  await page.getByTestId('wiz-name').fill('   ');
  await expect(page.getByTestId('field-error').first()).toBeVisible();
  await expect(page.getByTestId('wiz-next')).toBeDisabled();
  await page.getByTestId('wiz-name').fill('x'.repeat(101));
  await expect(page.getByTestId('field-error').first()).toContainText(/100 characters/);
  await page.getByTestId('wiz-cancel').click();

  // An ISO chosen in the picker that is gone by the time of Create: the engine says which file.
  const { copyFileSync, rmSync } = await import('node:fs');
  const gone = join(hangar.home, 'gone.iso');
  copyFileSync(guestIso, gone);
  await list.newVm();
  await wizard.fill({ name: 'no such iso', iso: gone, memory: '256', diskSize: '64M' });
  rmSync(gone);
  await wizard.create();
  await expect(page.getByTestId('wiz-error')).toContainText(gone);
  await page.getByTestId('wiz-cancel').click();

  // The UI names no file itself: a path typed into the API from the page is refused.
  const typed = await page.evaluate(async (path) => {
    const ws = new WebSocket(`ws://${location.host}${location.pathname.replace(/[^/]*$/, '')}api`);
    await new Promise((r) => (ws.onopen = r));
    const reply = new Promise<string>((r) => (ws.onmessage = (m) => r(String(m.data))));
    ws.send(JSON.stringify({ id: 1, method: 'disk.info', params: { path } }));
    const text = await reply;
    ws.close();
    return text;
  }, guestIso);
  expect(JSON.parse(typed)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });

  // A VM whose ISO disappears after creation fails to start, and the UI says which file.
  const iso = join(hangar.home, 'vanishing.iso');
  copyFileSync(guestIso, iso);
  const created = hangar.cli([
    'create',
    '--name',
    'vanishing',
    '--iso',
    iso,
    '--memory',
    '256',
    '--disk-size',
    '16M',
  ]);
  expect(created.code).toBe(0);
  rmSync(iso);
  const card = list.card('vanishing');
  await expect(card).toBeVisible();
  await card.getByTestId('card-start').click();
  await expect(page.getByTestId('notice-error')).toContainText(iso);
  await expect(card).toHaveAttribute('data-state', 'stopped');
  await page.screenshot({ path: join(shots, 'start-error.png') });
});

test('express: a name and an ISO, then Create and start, with the defaults of the rest', async ({
  page,
  hangar,
}) => {
  const wizard = new WizardPage(page);
  await page.goto(hangar.url);
  await new ListPage(page).newVm();
  await page.getByTestId('wiz-name').fill('express');
  // Not offered before there is anything to boot.
  await expect(page.getByTestId('wiz-create-start')).toHaveCount(0);
  await wizard.next();
  await expect(page.getByTestId('wiz-create-start')).toBeDisabled();
  await wizard.chooseFile('wiz-iso', guestIso);
  await page.getByTestId('wiz-create-start').click();

  await expect(page.getByTestId('detail-name')).toHaveText('express', { timeout: 30_000 });
  await expect(page.getByTestId('detail-state')).toHaveText('running', { timeout: 60_000 });
  const id = await new DetailPage(page).vmId();
  expect(hangar.cli(['wait', id, '--serial', readyMarker, '--timeout', '180']).code).toBe(0);
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
  expect(hangar.cli(['delete', id, '--yes']).code).toBe(0);
});
