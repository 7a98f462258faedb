// The shared folder in Settings: the folder the CLI shared, the mount commands to copy, and Stop
// sharing, which waits for a stopped VM. axe checks the panel in both schemes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { mountHelp } from '../src/shared/share';
import { expect, test, createGuestVm } from './fixtures';

test('a shared folder is shown with its mount commands and can be stopped from Settings', async ({
  page,
  hangar,
}) => {
  const id = createGuestVm(hangar, 'shares a folder');
  const folder = join(hangar.home, '..', 'e2e-shared folder');
  mkdirSync(folder, { recursive: true });
  await page.goto(`${hangar.url}#/vm/${id}/settings`);
  await expect(page.getByTestId('share-none')).toContainText('--share DIR');

  const shared = hangar.cli(['edit', id, '--share', folder]);
  expect(shared.code, shared.stderr).toBe(0);
  const panel = page.getByTestId('share-panel');
  await expect(panel.getByTestId('share-path')).toHaveText(folder);
  await expect(panel.getByTestId('share-linux')).toHaveText(mountHelp().linux);
  await expect(panel.getByTestId('share-windows')).toHaveText('\\\\10.0.2.4\\qemu');
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const axe = await new AxeBuilder({ page })
      .include('[data-testid="share-panel"]')
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    expect(axe.violations.map((v) => `${scheme}: ${v.id}`)).toEqual([]);
    await panel.screenshot({ path: `docs/screenshots/share-${scheme}.png` });
  }

  // Set up at each start: while the VM runs, stopping the share waits.
  expect(hangar.cli(['start', id]).code).toBe(0);
  await expect(panel.getByTestId('share-stop')).toBeDisabled();
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
  await panel.getByTestId('share-stop').click();
  await expect(page.getByTestId('share-none')).toBeVisible();
  const info = hangar.cli(['info', id]);
  expect((info.json as { config: { sharedFolder: unknown } }).config.sharedFolder).toBeNull();
});
