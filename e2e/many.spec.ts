// Working with many VMs: tags set in Settings and with the CLI, the tag filter, and bulk start,
// shut down and delete on ticked cards, each with one confirmation that lists what happens to
// which VM and what is left alone.
import { test, expect, createGuestVm, readyMarker } from './fixtures';
import { ListPage } from './pages/ListPage';

interface Listed {
  id: string;
  name: string;
  state: string;
  tags?: string[];
}

test('tags, the tag filter and bulk actions with one confirmation', async ({ page, hangar }) => {
  const ids = ['web-1', 'web-2', 'db-1'].map((n) => createGuestVm(hangar, n));
  const [web1, web2] = ids as [string, string, string];
  expect(hangar.cli(['edit', web2, '--tag', 'web', '--tag', 'team.a']).code).toBe(0);
  expect(hangar.cli(['edit', web2, '--tag', 'x', '--no-tags']).stderr).toMatch(/not both/);
  expect(hangar.cli(['list', '--tag', 'Web']).stderr).toMatch(/lowercase/);
  const bad = hangar.cli(['edit', web2, '--tag', 'Not A Tag']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/lowercase/);

  // A tag typed in Settings, checked as typed.
  await page.goto(`${hangar.url}#/vm/${web1}/settings`);
  await page.getByTestId('settings-tags').fill('web, Bad!');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-form')).toContainText('lowercase');
  // Escape (back to the list) never throws unsaved edits away.
  await page.keyboard.press('Escape');
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByTestId('settings-tags')).toHaveValue('web, Bad!');
  await page.getByTestId('settings-tags').fill('web');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-save')).toBeDisabled();
  const tagged = (hangar.cli(['list', '--tag', 'web']).json as Listed[]).map((v) => v.name).sort();
  expect(tagged).toEqual(['web-1', 'web-2']);

  await page.goto(hangar.url);
  const list = new ListPage(page);
  await expect(list.card('web-2').getByTestId('card-tags')).toHaveText(/web\s*team\.a/);
  await page.getByTestId('filter-tag').selectOption('web');
  await expect(page.getByTestId('vm-card')).toHaveCount(2);
  for (const name of ['web-1', 'web-2']) await list.card(name).getByTestId('card-select').check();
  await expect(page.getByTestId('bulk-bar')).toContainText('2 selected');

  await page.getByTestId('bulk-start').click();
  await expect(page.getByTestId('bulk-act')).toHaveText(/web-1\s*web-2/);
  await page.getByTestId('confirm-yes').click();
  await expect(list.card('web-1').getByTestId('card-state')).toHaveText(/running/i, { timeout: 60_000 });
  await expect(list.card('web-2').getByTestId('card-state')).toHaveText(/running/i, { timeout: 60_000 });
  for (const id of [web1, web2]) {
    expect(hangar.cli(['wait', id, '--serial', readyMarker, '--timeout', '180']).code).toBe(0);
  }
  await page.screenshot({ path: 'docs/screenshots/bulk.png' });

  // Delete while they run: nothing to do, and the dialog says why.
  await page.getByTestId('bulk-delete').click();
  await expect(page.getByTestId('bulk-skip')).toContainText('web-1: stop it first');
  await expect(page.getByTestId('confirm-yes')).toBeDisabled();
  await page.getByTestId('confirm-no').click();

  await page.getByTestId('bulk-stop').click();
  await page.getByTestId('confirm-yes').click();
  await expect(list.card('web-1').getByTestId('card-state')).toHaveText(/stopped/i, { timeout: 120_000 });
  await expect(list.card('web-2').getByTestId('card-state')).toHaveText(/stopped/i, { timeout: 120_000 });

  await page.getByTestId('bulk-delete').click();
  await expect(page.getByTestId('bulk-act')).toHaveText(/web-1\s*web-2/);
  await page.getByTestId('confirm-yes').click();
  await expect(page.getByTestId('notice-info').filter({ hasText: 'Delete: 2 of 2' })).toBeVisible();
  // Other spec files share this worker's Hangar: only this test's VMs are looked at.
  const left = (hangar.cli(['list']).json as Listed[])
    .map((v) => v.name)
    .filter((n) => ['web-1', 'web-2', 'db-1'].includes(n));
  expect(left).toEqual(['db-1']);
  await expect(page.getByTestId('bulk-bar')).toHaveCount(0);
  expect(hangar.cli(['delete', 'db-1', '--yes']).code).toBe(0);
});
