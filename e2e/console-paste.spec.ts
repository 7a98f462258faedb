// After "Paste text…" (typed or cancelled) the keyboard is back on the guest's screen, so the next
// key reaches the guest (an issue-17 defect: focus stayed on the toolbar button).
import { test, expect, createGuestVm } from './fixtures';

const screenHasFocus = (page: import('@playwright/test').Page) =>
  page.evaluate(() => document.activeElement?.closest('[data-testid="vnc-screen"]') !== null);

test('focus returns to the screen after pasting text and after cancelling', async ({ page, hangar }) => {
  const id = createGuestVm(hangar, 'paste target');
  expect(hangar.cli(['start', id]).code).toBe(0);
  await page.goto(`${hangar.url}#/vm/${id}/console`);
  await expect(page.getByTestId('vnc-status')).toHaveText('connected', { timeout: 60_000 });

  await page.getByTestId('vnc-paste').click();
  await page.getByTestId('paste-text').fill('echo typed\n');
  await page.getByTestId('paste-send').click();
  await expect(page.getByTestId('paste-dialog')).toHaveCount(0);
  await expect.poll(() => screenHasFocus(page)).toBe(true);

  await page.getByTestId('vnc-paste').click();
  await expect(page.getByTestId('paste-text')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('paste-dialog')).toHaveCount(0);
  await expect.poll(() => screenHasFocus(page)).toBe(true);
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
});
