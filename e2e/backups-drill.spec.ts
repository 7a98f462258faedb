// The Backups tab beyond back up and restore: a boot drill of a point (the test guest has no agent,
// so the drill waits for its ready marker on the serial console), retention with a preview and a
// yes, and a restore as a new VM whose progress reaches the page under the id the tab shows.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test, createGuestVm, readyMarker } from './fixtures';
import { DetailPage } from './pages/DetailPage';

interface Progress {
  id: string;
  operation: string;
  percent: number;
  step: string;
}

/** What axe finds (WCAG 2.1 A and AA, as a11y.spec.ts checks) on the page as it is now. */
async function axeFindings(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('drill a backup, prune with a preview and a yes, restore with progress', async ({ page, hangar }) => {
  test.setTimeout(900_000);
  const id = createGuestVm(hangar, 'nightly');
  // What the engine pushes to the page: a restore's progress must come under an id the page knows.
  const progress: Progress[] = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      const msg = JSON.parse(f.payload.toString()) as { event?: string; data?: Progress };
      if (msg.event === 'progress' && msg.data) progress.push(msg.data);
    }),
  );
  await page.goto(`${hangar.url}#/vm/${id}/backups`);
  await expect(page.getByTestId('backup-empty')).toBeVisible();

  // Three points: a full and two incrementals built on it.
  const rows = page.getByTestId('backup-row');
  for (const n of [1, 2, 3]) {
    await page.getByTestId('backup-create').click();
    await expect(rows).toHaveCount(n, { timeout: 120_000 });
  }
  await expect(rows.nth(2)).toContainText('full');
  await expect(rows.nth(0)).toContainText('incremental');

  // The drill: the guest has no cloud-init seed, so the hint asks for a check.
  await expect(page.getByTestId('drill-hint')).toContainText('has no cloud-init seed');
  await page.getByTestId('drill-check').fill(`serial:${readyMarker}`);
  const newest = rows.nth(0);
  await newest.getByTestId('backup-drill').click();
  await expect(newest.getByTestId('backup-drill')).toHaveText('Drilling…');
  await expect(page.getByTestId('drill-status')).toBeVisible();
  // One action at a time: the others wait for the drill.
  await expect(page.getByTestId('backup-create')).toBeDisabled();
  await expect(page.getByTestId('prune-run')).toBeDisabled();
  await expect(rows.nth(1).getByTestId('backup-restore')).toBeDisabled();
  await expect(newest.getByTestId('drill-ok')).toBeVisible({ timeout: 400_000 });
  await expect(page.getByTestId('drill-status')).toHaveCount(0);
  await newest.getByText('Details').click();
  await expect(newest.getByTestId('drill-detail')).toContainText(readyMarker);
  await expect(newest.getByTestId('drill-screen')).toContainText('/drills/');
  // The throwaway VM is gone again.
  const names = (hangar.cli(['list']).json as { name: string }[]).map((v) => v.name);
  expect(names.filter((n) => n.startsWith('drill '))).toEqual([]);

  // Retention: keeping nothing is refused before anything is sent.
  await page.getByTestId('prune-keep-last').fill('0');
  await expect(page.getByTestId('prune-error')).toContainText('nothing would be kept');
  await expect(page.getByTestId('prune-preview')).toBeDisabled();
  await expect(page.getByTestId('prune-run')).toBeDisabled();
  await page.getByTestId('prune-keep-last').fill('1');
  await page.getByTestId('prune-preview').click();
  const plan = page.getByTestId('prune-plan');
  await expect(plan.getByTestId('prune-removed')).toHaveCount(2);
  await expect(plan.getByTestId('prune-kept')).toHaveCount(1);
  const kept = await newest.getAttribute('data-id');
  await expect(plan.getByTestId('prune-kept')).toHaveAttribute('data-id', kept!);
  expect(await axeFindings(page)).toEqual([]);
  // A preview removes nothing; a "no" neither.
  await expect(rows).toHaveCount(3);
  await page.getByTestId('prune-run').click();
  const confirm = page.getByTestId('confirm-dialog');
  await expect(confirm.getByTestId('prune-removed')).toHaveCount(2);
  expect(await axeFindings(page)).toEqual([]);
  await page.getByTestId('confirm-no').click();
  await expect(rows).toHaveCount(3);
  await page.getByTestId('prune-run').click();
  await page.getByTestId('confirm-yes').click();
  await expect(rows).toHaveCount(1, { timeout: 120_000 });
  await expect(rows.nth(0)).toHaveAttribute('data-id', kept!);
  const listed = hangar.cli(['backup', 'list', id]).json as { backups: { id: string }[] };
  expect(listed.backups.map((b) => b.id)).toEqual([kept]);

  // The one point left (the others merged into it) restores as a new VM.
  progress.length = 0;
  await rows.nth(0).getByTestId('backup-restore').click();
  const dialog = page.getByTestId('restore-dialog');
  await dialog.getByTestId('restore-name').fill('nightly, restored');
  await dialog.getByTestId('restore-confirm').click();
  await expect(page.getByTestId('detail-name')).toHaveText('nightly, restored', { timeout: 120_000 });
  const restored = progress.filter((p) => p.operation === 'restore');
  expect(restored.some((p) => p.id === id && p.percent < 100 && p.step.startsWith('restoring'))).toBe(true);
  expect(restored.at(-1)).toMatchObject({ id, percent: 100 });

  for (const vm of [await new DetailPage(page).vmId(), id])
    expect(hangar.cli(['delete', vm, '--yes']).code).toBe(0);
});
