// A VM with nothing to boot says so on its card and in its detail view, with the next step,
// instead of a bare Running (issue 17: /etc/passwd once "started" this way).
import { expect, test } from './fixtures';
import { ListPage } from './pages/ListPage';

test('a VM with nothing to boot says so on its card and in the detail view', async ({ page, hangar }) => {
  const made = hangar.cli([
    'create',
    '--name',
    'nothing to boot',
    '--memory',
    '256',
    '--disk-size',
    '16M',
    '--firmware',
    'bios',
  ]);
  expect(made.code, made.stderr).toBe(0);
  const id = (made.json as { id: string }).id;
  expect(hangar.cli(['start', id]).code).toBe(0);
  await page.goto(hangar.url);
  const card = new ListPage(page).card('nothing to boot');
  const problem = card.getByTestId('card-readiness');
  await expect(problem).toHaveAttribute('data-stage', 'no-boot', { timeout: 90_000 });
  await expect(problem).toContainText('Nothing to boot');
  await expect(problem).toContainText('Insert install media');
  await page.goto(`${hangar.url}#/vm/${id}/console`);
  await expect(page.getByTestId('guest-no-boot')).toContainText('Nothing to boot');
  await expect(page.getByTestId('guest-stage')).toHaveText('not booting');
  // The worker's Hangar is shared with the next spec files: leave it as found.
  hangar.cli(['stop', id, '--force']);
  expect(hangar.cli(['delete', id, '--yes']).code).toBe(0);
});
