// Encrypted backups from the Backups tab: a backup encrypted with a passphrase (typed twice, a
// mismatch refused before anything is sent), marked as such in the history; the next one, a
// verify and a prune that rewrites a point each ask for it; a restore as a new VM makes nothing
// with a wrong passphrase and a VM that boots with the data with the right one; then a restore in
// place. axe checks the tab with the passphrase fields open, and the passphrase dialog.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test, createGuestVm, readyMarker, type Hangar } from './fixtures';
import { DetailPage } from './pages/DetailPage';

const passphrase = 'correct horse battery';

function ready(hangar: Hangar, id: string): void {
  const r = hangar.cli(['wait', id, '--serial', readyMarker, '--timeout', '120']);
  expect(r.code, r.stderr).toBe(0);
}

/** What axe finds (WCAG 2.1 A and AA) in the Backups tab, in the light and the dark scheme. */
async function axeFindings(page: Page): Promise<string[]> {
  const found: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const r = await new AxeBuilder({ page })
      .include('[data-testid="backups-tab"]')
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    found.push(
      ...r.violations.map((v) => `${scheme}: ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    );
  }
  return found;
}

test('encrypted backups: made, continued, verified, pruned and restored with the passphrase', async ({
  page,
  hangar,
}) => {
  test.setTimeout(600_000);
  const id = createGuestVm(hangar, 'sealed');
  expect(hangar.cli(['start', id]).code).toBe(0);
  ready(hangar, id);
  await page.goto(`${hangar.url}#/vm/${id}/serial`);
  const detail = new DetailPage(page);
  await detail.serialRun('echo sealed-1 > /mnt/disk/state; sync; echo wrote-$((1+500))', /wrote-501/);

  await detail.openTab('backups');
  await expect(page.getByTestId('backup-empty')).toBeVisible();
  const create = page.getByTestId('backup-create');
  const error = page.getByTestId('backup-passphrase-error');
  await page.getByTestId('backup-encrypt').check();
  await expect(page.getByTestId('backup-passphrase')).toHaveAttribute('type', 'password');
  await expect(page.getByTestId('backup-passphrase')).toHaveAttribute('autocomplete', 'new-password');
  await expect(error).toContainText('Type a passphrase');
  await expect(create).toBeDisabled();
  await page.getByTestId('backup-passphrase').fill(passphrase);
  await page.getByTestId('backup-passphrase-confirm').fill(`${passphrase}!`);
  await expect(error).toContainText('differ');
  await expect(create).toBeDisabled();
  await expect(page.getByTestId('backup-create-full')).toBeDisabled();
  expect(await axeFindings(page)).toEqual([]);
  await page.getByTestId('backup-passphrase-confirm').fill(passphrase);
  await expect(error).toHaveCount(0);
  await create.click();
  await expect(page.getByTestId('notice-info').filter({ hasText: 'Full backup made' })).toContainText(
    'encrypted',
    { timeout: 120_000 },
  );
  const row = page.getByTestId('backup-row');
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('backup-encrypted')).toHaveText('encrypted');
  const listed = hangar.cli(['backup', 'list', id]).json as { backups: { encrypted: boolean }[] };
  expect(listed.backups.map((b) => b.encrypted)).toEqual([true]);

  // The chain is encrypted now: the next backup waits for its passphrase, and says why; a full
  // backup without it would start a chain that is not encrypted.
  await expect(page.getByTestId('backup-encrypt')).toHaveCount(0);
  await expect(page.getByTestId('backups-tab')).toContainText('The backups of this VM are encrypted');
  await expect(create).toBeDisabled();
  await expect(page.getByTestId('backup-full-hint')).toContainText('not encrypted');
  await detail.openTab('serial');
  await detail.serialRun('echo sealed-2 > /mnt/disk/state; sync; echo wrote-$((1+501))', /wrote-502/);
  await detail.openTab('backups');
  await page.getByTestId('backup-passphrase').fill(passphrase);
  await expect(page.getByTestId('backup-full-hint')).toContainText('encrypted with the passphrase');
  await create.click();
  await expect(page.getByTestId('notice-info').filter({ hasText: 'Incremental backup made' })).toContainText(
    'encrypted',
    { timeout: 120_000 },
  );
  await expect(row).toHaveCount(2);
  await expect(page.getByTestId('backup-encrypted')).toHaveCount(2);
  // Used once: the field is empty again.
  await expect(page.getByTestId('backup-passphrase')).toHaveValue('');

  // A full verify reads the encrypted disks: it asks for the passphrase first.
  const newest = row.nth(0);
  await newest.getByTestId('backup-verify').click();
  const ask = page.getByTestId('passphrase-dialog');
  await expect(ask).toBeVisible();
  await expect(ask.getByTestId('passphrase-confirm')).toBeDisabled();
  expect(await axeFindings(page)).toEqual([]);
  await ask.getByTestId('passphrase-input').fill(passphrase);
  await ask.getByTestId('passphrase-confirm').click();
  await expect(newest.getByTestId('backup-verified')).toHaveText('intact', { timeout: 120_000 });

  // Keeping the newest only removes the full it is built on: rewriting it needs the passphrase.
  await page.getByTestId('prune-keep-last').fill('1');
  await page.getByTestId('prune-run').click();
  await expect(ask.getByTestId('prune-key-why')).toBeVisible();
  await expect(ask.getByTestId('prune-removed')).toHaveCount(1);
  await ask.getByTestId('passphrase-input').fill(passphrase);
  await ask.getByTestId('passphrase-confirm').click();
  await expect(row).toHaveCount(1, { timeout: 120_000 });
  await expect(row.getByTestId('backup-encrypted')).toHaveText('encrypted');

  // One guest at a time under TCG: the source stops before the restored VM boots.
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
  await row.getByTestId('backup-restore').click();
  const dialog = page.getByTestId('restore-dialog');
  await expect(dialog).toBeVisible();
  // A VM cannot run on encrypted backup files: no instant restore, and the reason instead.
  await expect(dialog.getByTestId('restore-instant')).toHaveCount(0);
  await expect(dialog.getByTestId('restore-instant-encrypted')).toContainText('encrypted');
  await dialog.getByTestId('restore-name').fill('sealed, restored');
  await expect(dialog.getByTestId('restore-confirm')).toBeDisabled();
  await dialog.getByTestId('restore-passphrase').fill('not the passphrase');
  await dialog.getByTestId('restore-confirm').click();
  await expect(
    page.getByTestId('notice-error').filter({ hasText: 'Could not restore the backup' }),
  ).toContainText('key does not open', { timeout: 120_000 });
  // Nothing was made, the dialog is still open, and the wrong passphrase is not kept in it.
  await expect(dialog).toBeVisible();
  await expect(dialog.getByTestId('restore-passphrase')).toHaveValue('');
  const names = () => ((hangar.cli(['list']).json as { name: string }[] | null) ?? []).map((v) => v.name);
  expect(names()).not.toContain('sealed, restored');

  await dialog.getByTestId('restore-passphrase').fill(passphrase);
  await dialog.getByTestId('restore-confirm').click();
  await expect(page.getByTestId('detail-name')).toHaveText('sealed, restored', { timeout: 120_000 });
  const restored = await detail.vmId();
  expect(restored).not.toBe(id);
  // The passphrase went with the call only: not in the address, nor in the page's storage.
  expect(page.url()).not.toContain('horse');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  expect(stored).not.toContain(passphrase);

  await page.getByTestId('detail-start').click();
  await detail.waitState('running');
  ready(hangar, restored);
  await detail.openTab('serial');
  await detail.serialRun(
    'echo 3 > /proc/sys/vm/drop_caches; cat /mnt/disk/state; echo read-$((1+502))',
    /sealed-2\s*\n.*read-503/,
  );
  expect(hangar.cli(['stop', restored, '--force']).code).toBe(0);

  // In place: the same question as for a plain backup, with the passphrase.
  await page.goto(`${hangar.url}#/vm/${id}/backups`);
  await page.getByTestId('backup-restore-in-place').click();
  await expect(ask).toContainText('What they hold now is kept as a snapshot');
  await ask.getByTestId('passphrase-input').fill(passphrase);
  await ask.getByTestId('passphrase-confirm').click();
  await expect(page.getByTestId('notice-info').filter({ hasText: 'Backup restored in place' })).toBeVisible({
    timeout: 120_000,
  });
  for (const vm of [restored, id]) expect(hangar.cli(['delete', vm, '--yes']).code).toBe(0);
});
