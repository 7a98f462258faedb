// A running VM's console and settings: after "Paste text…" (typed or cancelled) the keyboard is
// back on the guest's screen, so the next key reaches the guest (an issue-17 defect: focus stayed
// on the toolbar button); a port forward added while it runs answers at once, and the header and
// the card show its address, which opens the guest's page.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, expect, createGuestVm, guestDir, readyMarker } from './fixtures';

const httpBody = JSON.parse(readFileSync(join(guestDir, 'manifest.json'), 'utf8')).httpBody as string;

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

test('a port forward added in Settings while the VM runs answers at once', async ({ page, hangar }) => {
  const id = createGuestVm(hangar, 'live forwards');
  expect(hangar.cli(['start', id]).code).toBe(0);
  expect(hangar.cli(['wait', id, '--serial', readyMarker, '--timeout', '120']).code).toBe(0);
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  await page.goto(`${hangar.url}#/vm/${id}/settings`);
  await expect(page.getByTestId('settings-locked')).toBeVisible();
  await page.getByRole('button', { name: 'Add forward' }).click();
  await page.getByLabel('Host port').fill(String(port));
  await page.getByLabel('Guest port').fill('80');
  await page.getByTestId('settings-save').click();
  await expect(page.getByTestId('settings-save')).toBeDisabled();
  const res = await fetch(`http://127.0.0.1:${port}/`);
  expect((await res.text()).trim()).toBe(httpBody);

  // The header and the card say how to reach it: the web address opens the guest's page; uptime.
  const header = page.getByTestId('access');
  await expect(header.getByTestId('access-web')).toHaveText(`http://localhost:${port}`);
  await expect(header.getByTestId('uptime')).toHaveText(/^up /);
  const opened = page.waitForEvent('popup');
  await header.getByRole('link', { name: `http://localhost:${port}` }).click();
  const site = await opened;
  await expect(site.locator('body')).toHaveText(httpBody);
  await site.close();
  await page.goto(hangar.url);
  const card = page.getByTestId('vm-card').filter({ hasText: 'live forwards' });
  await expect(card.getByTestId('access-web')).toHaveText(`http://localhost:${port}`);
  await page.screenshot({ path: 'docs/screenshots/card-access.png' });

  // Removing a forward row keeps the keyboard in the list, on "Add forward".
  await page.goto(`${hangar.url}#/vm/${id}/settings`);
  await page.getByRole('button', { name: 'Remove forward 1' }).click();
  await expect(page.getByRole('button', { name: 'Add forward' })).toBeFocused();
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
});
