// Rollback through the UI against real QEMU: a baseline and reset-to-baseline, a disposable run,
// a template with a linked clone, and the snapshot tree. Guests boot their kernel directly
// (a few seconds under TCG); what is on their disk is read in the guest over the Serial tab.
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { test, expect, createGuestVm, guestDir, readyMarker, type Hangar } from './fixtures';
import { ListPage } from './pages/ListPage';
import { DetailPage } from './pages/DetailPage';
import { WizardPage } from './pages/WizardPage';

const shots = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));

const createVm = (hangar: Hangar, name: string) => createGuestVm(hangar, name);

/**
 * The same VM made through the wizard: kernel and initrd chosen in the file picker window, as a
 * person does it (the UI takes no typed paths).
 */
async function createVmInUi(page: Page, hangar: Hangar, name: string): Promise<string> {
  await page.goto(hangar.url);
  await new ListPage(page).newVm();
  const wizard = new WizardPage(page);
  await wizard.fill({
    name,
    kernel: join(guestDir, 'vmlinuz'),
    initrd: join(guestDir, 'initrd.img'),
    cmdline: 'console=ttyS0',
    memory: '256',
    diskSize: '64M',
  });
  await wizard.create();
  await expect(page.getByTestId('vm-detail')).toBeVisible();
  const id = await new DetailPage(page).vmId();
  const info = hangar.cli(['info', id]).json as {
    config: { directBoot: { kernel: string; initrd: string } };
  };
  expect(info.config.directBoot).toMatchObject({
    kernel: realpathSync(join(guestDir, 'vmlinuz')),
    initrd: realpathSync(join(guestDir, 'initrd.img')),
  });
  return id;
}

async function openVm(page: Page, hangar: Hangar, id: string, tab: string): Promise<DetailPage> {
  await page.goto(hangar.url);
  await expect(page.getByTestId('vm-card').first()).toBeVisible();
  await page.evaluate((h) => (location.hash = h), `#/vm/${id}/${tab}`);
  await expect(page.getByTestId('vm-detail')).toBeVisible();
  return new DetailPage(page);
}

/** Waits for this run's ready marker (the CLI reads only the serial log of the current run). */
function ready(hangar: Hangar, id: string): void {
  const r = hangar.cli(['wait', id, '--serial', readyMarker, '--timeout', '120']);
  expect(r.code, r.stderr).toBe(0);
}

async function boot(detail: DetailPage, hangar: Hangar, id: string, button = 'detail-start') {
  await detail.page.getByTestId(button).click();
  await detail.waitState('running');
  ready(hangar, id);
}

async function shutDown(detail: DetailPage): Promise<void> {
  await detail.page.getByTestId('detail-shutdown').click();
  await detail.waitState('stopped', 90_000);
}

/** The disk as the guest reads it, past its page cache; `n` makes the output line unique. */
async function expectState(detail: DetailPage, value: string, n: number): Promise<void> {
  await detail.openTab('serial');
  await detail.serialRun(
    `echo 3 > /proc/sys/vm/drop_caches; cat /mnt/disk/state 2>&1; echo read-$((${n}+0))`,
    new RegExp(`${value}\\s*\\n.*read-${n}`),
  );
}

async function write(detail: DetailPage, value: string, n: number): Promise<void> {
  await detail.openTab('serial');
  await detail.serialRun(
    `echo ${value} > /mnt/disk/state; sync; echo wrote-$((${n}+0))`,
    new RegExp(`wrote-${n}`),
  );
}

test('baseline: set it, write, reset from the UI, read the old data back', async ({ page, hangar }) => {
  const id = await createVmInUi(page, hangar, 'baseline vm');
  const detail = await openVm(page, hangar, id, 'serial');
  await boot(detail, hangar, id);
  await write(detail, 'A', 101);
  await shutDown(detail);

  await detail.openTab('rollback');
  await page.getByTestId('baseline-set').click();
  await expect(page.getByTestId('baseline-info')).toContainText('Baseline set');
  await expect(page.getByTestId('baseline-clear')).toBeEnabled();

  await boot(detail, hangar, id);
  await write(detail, 'B', 102);
  await expectState(detail, 'B', 103);

  await detail.openTab('rollback');
  await page.getByTestId('baseline-reset').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('including');
  await expect(page.getByTestId('confirm-dialog')).toContainText('restarts');
  await detail.confirm();
  // The engine answers once the VM runs again from the baseline; the notice says how long it took.
  await expect(page.getByTestId('notice-info').filter({ hasText: /took \d+ ms/ })).toBeVisible();
  await expect(page.getByTestId('baseline-info')).toContainText(/last reset took \d+ ms/i);
  await detail.waitState('running');
  await page.screenshot({ path: join(shots, 'rollback-baseline.png') });
  ready(hangar, id);
  await expectState(detail, 'A', 104);
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
});

test('disposable run: badge, writes thrown away at shutdown', async ({ page, hangar }) => {
  const id = createVm(hangar, 'disposable vm');
  const detail = await openVm(page, hangar, id, 'serial');
  await boot(detail, hangar, id);
  await write(detail, 'keep', 201);
  await shutDown(detail);
  await expect(page.getByTestId('detail-start-disposable')).toHaveAttribute(
    'title',
    /thrown away at shutdown/,
  );

  await boot(detail, hangar, id, 'detail-start-disposable');
  await expect(page.getByTestId('disposable-badge')).toBeVisible();
  await write(detail, 'gone', 202);
  await expectState(detail, 'gone', 203);
  await detail.openTab('snapshots');
  await expect(page.getByTestId('snapshot-take')).toBeDisabled();
  await expect(page.getByTestId('snapshot-locked')).toContainText('disposable');
  await page.screenshot({ path: join(shots, 'rollback-disposable-detail.png') });

  const list = new ListPage(page);
  await page.getByText('← All VMs').click();
  const card = list.card('disposable vm');
  await expect(card.getByTestId('disposable-badge')).toBeVisible();
  await expect(card.getByTestId('card-snapshot')).toBeDisabled();
  await page.screenshot({ path: join(shots, 'rollback-disposable.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(shots, 'rollback-disposable-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });

  await card.getByTestId('card-name').click();
  await shutDown(detail);
  await expect(page.getByTestId('disposable-badge')).toHaveCount(0);
  await boot(detail, hangar, id);
  await expectState(detail, 'keep', 204);
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
});

test('template: linked clone from the UI sees its data; the template cannot start', async ({
  page,
  hangar,
}) => {
  const tplId = createVm(hangar, 'template vm');
  const detail = await openVm(page, hangar, tplId, 'serial');
  await boot(detail, hangar, tplId);
  await write(detail, 'from-template', 301);
  await shutDown(detail);

  await detail.openTab('rollback');
  await page.getByTestId('template-set').click();
  await expect(page.getByTestId('template-badge')).toBeVisible();
  await expect(page.getByTestId('detail-start')).toBeDisabled();
  await expect(page.getByTestId('detail-start-disposable')).toBeDisabled();

  await page.getByTestId('linked-clone-new').click();
  await page.getByTestId('linked-clone-name').fill('linked one');
  await page.getByTestId('linked-clone-create').click();
  await expect(page.getByTestId('detail-name')).toHaveText('linked one');
  await expect(page.getByTestId('linked-to')).toContainText('template vm');
  const cloneId = await detail.vmId();
  expect(cloneId).not.toBe(tplId);

  await boot(detail, hangar, cloneId);
  await expectState(detail, 'from-template', 302);
  await write(detail, 'from-clone', 303);

  // Back on the template: it lists its clone, and neither the UI nor the engine starts it.
  await detail.openTab('rollback');
  await page.getByTestId('linked-to').getByRole('button', { name: 'template vm' }).click();
  await expect(page.getByTestId('detail-name')).toHaveText('template vm');
  await expect(page.getByTestId('linked-clone')).toContainText('linked one');
  await expect(page.getByTestId('template-unset')).toBeDisabled();
  await expect(page.getByTestId('detail-start')).toBeDisabled();
  // Delete is disabled with the reason (the engine would refuse after the confirmation), how the
  // template last stopped is not shown, and its console offers no Start.
  await expect(page.getByTestId('detail-delete')).toBeDisabled();
  await expect(page.getByTestId('detail-delete')).toHaveAttribute('title', /Linked clones .*linked one/);
  await expect(page.getByTestId('detail-reason')).toHaveCount(0);
  await detail.openTab('console');
  await expect(page.getByTestId('console-placeholder')).toContainText('A template is never started');
  await expect(page.getByTestId('console-start')).toHaveCount(0);
  await detail.openTab('rollback');
  await page.screenshot({ path: join(shots, 'rollback-template.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(shots, 'rollback-template-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  const refused = hangar.cli(['start', tplId]);
  expect(refused.code).toBe(4); // CONFLICT
  expect(JSON.stringify(refused.json)).toMatch(/is a template/);

  const list = new ListPage(page);
  await page.getByText('← All VMs').click();
  await expect(list.card('template vm').getByTestId('template-badge')).toBeVisible();
  // A template's card offers what one does with it: a linked clone, not Start.
  await expect(list.card('template vm').getByTestId('card-start')).toHaveCount(0);
  await expect(list.card('template vm').getByTestId('card-start-disposable')).toHaveCount(0);
  await expect(list.card('template vm').getByTestId('card-linked-clone')).toHaveText('New linked clone');
  await expect(list.card('linked one').getByTestId('card-state')).toHaveText(/running/i);
  await page.screenshot({ path: join(shots, 'rollback-cards.png') });
  await list.card('template vm').getByTestId('card-linked-clone').click();
  await expect(page.getByTestId('linked-clone-new')).toBeVisible();
  await page.getByText('← All VMs').click();

  // The clone, stopped, becomes independent and keeps its own data.
  expect(hangar.cli(['stop', cloneId, '--force']).code).toBe(0);
  await list.card('linked one').getByTestId('card-name').click();
  await detail.openTab('rollback');
  await page.getByTestId('make-independent').click();
  await expect(page.getByTestId('linked-to')).toHaveCount(0);
  await expect(page.getByTestId('template-set')).toBeVisible();
});

test('snapshot tree: rename in place; the current marker follows a revert', async ({ page, hangar }) => {
  const id = createVm(hangar, 'snapshots vm');
  const detail = await openVm(page, hangar, id, 'snapshots');
  await expect(page.getByTestId('snapshot-empty')).toBeVisible();

  await detail.takeSnapshot('first');
  await expect(detail.currentMarker()).toHaveAttribute('data-after', 'first');
  await detail.takeSnapshot('second');
  await expect(detail.currentMarker()).toHaveAttribute('data-after', 'second');
  await expect(detail.snapshotRow('first')).toContainText('disk only');

  await detail.renameSnapshot('first', 'clean install');
  await expect(detail.snapshotRow('first')).toHaveCount(0);

  await detail.snapshotRow('clean install').getByTestId('snapshot-revert').click();
  await detail.confirm();
  await expect(detail.currentMarker()).toHaveAttribute('data-after', 'clean install');
  await expect(detail.snapshotRow('clean install')).toHaveAttribute('aria-current', 'true');
  await expect(detail.snapshotRow('second')).not.toHaveAttribute('aria-current', 'true');

  // A new snapshot from here starts a branch beside "second"; the marker moves on to it.
  await detail.takeSnapshot('other branch');
  await expect(detail.currentMarker()).toHaveAttribute('data-after', 'other branch');
  const order = await page
    .locator('[data-testid="snapshot-row"], [data-testid="snapshot-current-marker"]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-snapshot-name') ?? 'HERE'));
  expect(order).toEqual(['clean install', 'second', 'other branch', 'HERE']);
  await detail.snapshotRow('second').getByTestId('snapshot-delete').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('kept');
  await page.getByTestId('confirm-no').click();
  await page.screenshot({ path: join(shots, 'rollback-snapshots.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(shots, 'rollback-snapshots-dark.png') });
});

test('conversions in one step: snapshots give way to a baseline, a baseline to a template', async ({
  page,
  hangar,
}) => {
  const id = createVm(hangar, 'convert vm');
  for (const name of ['first', 'second']) {
    expect(hangar.cli(['snapshot', 'create', id, name]).code).toBe(0);
  }
  const detail = await openVm(page, hangar, id, 'rollback');
  // What blocks what is said before the click, and the conversion is offered.
  await expect(page.getByTestId('baseline-set')).toBeDisabled();
  await page.getByTestId('baseline-set-convert').click();
  await expect(page.getByTestId('baseline-convert-list')).toHaveText(/first\s*second/);
  await detail.confirm();
  await expect(page.getByTestId('baseline-info')).toContainText('Baseline set');
  expect(hangar.cli(['snapshot', 'list', id]).json).toEqual([]);

  await expect(page.getByTestId('template-set')).toBeDisabled();
  await page.getByTestId('template-set-convert').click();
  await expect(page.getByTestId('confirm-dialog')).toContainText('cannot have a baseline');
  await detail.confirm();
  await expect(page.getByTestId('template-badge').first()).toBeVisible();
  const info = hangar.cli(['info', id]).json as { config: { template?: boolean; baseline: unknown } };
  expect(info.config.template).toBe(true);
  expect(info.config.baseline ?? null).toBeNull();
});
