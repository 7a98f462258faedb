// A stopped VM's card shows the last frame of its screen, dimmed under "Powered off", instead of
// an empty box: the engine keeps a frame from the card's own captures while the VM ran.
import { expect, test, createGuestVm } from './fixtures';
import { ListPage } from './pages/ListPage';

test('a stopped VM’s card shows its last screen, dimmed, under its state', async ({ page, hangar }) => {
  const id = createGuestVm(hangar, 'remembers its screen');
  await page.goto(hangar.url);
  const card = new ListPage(page).card('remembers its screen');
  // Never ran: nothing to show but the state.
  await expect(card.getByText('Powered off')).toBeVisible();
  await expect(card.getByTestId('card-last-frame')).toHaveCount(0);

  expect(hangar.cli(['start', id]).code).toBe(0);
  await expect(card.getByTestId('card-thumbnail')).toBeVisible({ timeout: 60_000 });
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
  await expect(card.getByTestId('card-state')).toHaveText('Stopped');
  const last = card.getByTestId('card-last-frame');
  await expect(last).toBeVisible();
  await expect(last).toHaveAttribute('alt', /^Last screen of remembers its screen, captured /);
  await expect(card.getByText('Powered off')).toBeVisible();
  // The live picture is gone: an old screen never passes for a running one.
  await expect(card.getByTestId('card-thumbnail')).toHaveCount(0);
  await card.screenshot({ path: 'docs/screenshots/card-last-frame.png' });
  // The worker's Hangar is shared with the next spec files: leave it as found.
  hangar.cli(['stop', id, '--force']);
  expect(hangar.cli(['delete', id, '--yes']).code).toBe(0);
});
