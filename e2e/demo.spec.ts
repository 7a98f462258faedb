// The empty state's demo: one click, and a running guest appears with its web server forwarded.
// The guest is seeded in this run's cache (fixtures.ts), so nothing is downloaded.
import { expect, test } from './fixtures';
import { ListPage } from './pages/ListPage';

test('the empty state makes and starts a demo VM in one click', async ({ page, hangar }) => {
  // The worker's Hangar is shared: the demo is offered on an empty list.
  for (const vm of (hangar.cli(['list']).json as { id: string }[] | null) ?? []) {
    hangar.cli(['stop', vm.id, '--force']);
    hangar.cli(['delete', vm.id, '--yes']);
  }
  await page.goto(hangar.url);
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await page.getByTestId('demo-start').click();
  const card = new ListPage(page).card('demo');
  await expect(card.getByTestId('card-state')).toHaveText('Running', { timeout: 90_000 });
  await expect(card.getByTestId('card-thumbnail')).toBeVisible({ timeout: 60_000 });
  await expect(card.getByTestId('access')).toContainText('http://localhost:');
  // A second demo is refused with a pointer to the first (the CLI says the same).
  const again = hangar.cli(['demo']);
  expect(again.code).toBe(4);
  expect(again.stderr).toContain('There is a demo VM already');
  const id = (hangar.cli(['list']).json as { id: string }[])[0]!.id;
  hangar.cli(['stop', id, '--force']);
  expect(hangar.cli(['delete', id, '--yes']).code).toBe(0);
});
