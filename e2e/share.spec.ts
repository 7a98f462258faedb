// The shared folder in Settings: chosen in the host server's picker (the app cannot name a
// folder), shown with the mount commands to copy, refused where it would expose Hangar's data,
// made read-only, and stopped, which waits for a stopped VM. axe checks the panel in both schemes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { mountHelp } from '../src/shared/share';
import { expect, test, createGuestVm } from './fixtures';
import { PickerPage } from './pages/PickerPage';

test('a folder is shared from Settings through the picker, shown with its mount commands, and stopped', async ({
  page,
  hangar,
}) => {
  const id = createGuestVm(hangar, 'shares a folder');
  const folder = join(hangar.home, '..', 'e2e-shared folder');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'notes.txt'), 'x');
  await page.goto(`${hangar.url}#/vm/${id}/settings`);
  const panel = page.getByTestId('share-panel');
  await expect(panel.getByTestId('share-none')).toBeVisible();

  // The folder above the app's data holds every VM's disks: the picker refuses to share it.
  let opened = page.waitForEvent('popup');
  await panel.getByTestId('share-choose').click();
  let picker = new PickerPage(await opened);
  await picker.shareFolder(join(hangar.home, '..'));
  await expect(picker.popup.getByTestId('picker-error')).toContainText("contains Hangar's own data");
  await picker.popup.getByTestId('picker-cancel').click();
  await expect(panel.getByTestId('share-choose')).toBeEnabled();
  await expect(panel.getByTestId('share-none')).toBeVisible();

  opened = page.waitForEvent('popup');
  await panel.getByTestId('share-choose').click();
  picker = new PickerPage(await opened);
  await picker.popup.getByTestId('picker-location').fill(folder);
  await picker.popup.getByTestId('picker-go').click();
  await expect(picker.popup.getByTestId('picker-folder')).toHaveText(folder);
  await picker.popup.getByTestId('picker-use').click();
  await expect(panel.getByTestId('share-path')).toHaveText(folder);
  await expect(panel.getByTestId('share-linux')).toHaveText(mountHelp().linux);
  // 9p is a device in the guest, so only when asked for: then its mount command is shown too.
  await expect(panel.getByTestId('share-9p')).toHaveCount(0);
  await panel.getByTestId('share-over9p').click();
  await expect(panel.getByTestId('share-over9p')).toBeChecked();
  await expect(panel.getByTestId('share-9p')).toHaveText(mountHelp().linux9p);
  await expect(panel.getByTestId('share-windows')).toHaveText('\\\\10.0.2.4\\qemu');
  const info = () =>
    hangar.cli(['info', id]).json as { config: { sharedFolder: { path: string; readOnly: boolean } | null } };
  expect(info().config.sharedFolder).toEqual({ path: folder, readOnly: false, over9p: true });
  await expect(panel.getByTestId('share-mode')).toHaveText('read-write');
  // Read-only is one checkbox; the engine records it, and the next start serves the folder so.
  // (A click, not check(): the box follows the engine's answer, a moment after the click.)
  await panel.getByTestId('share-readonly').click();
  await expect(panel.getByTestId('share-readonly')).toBeChecked();
  await expect(panel.getByTestId('share-mode')).toHaveText('read-only');
  expect(info().config.sharedFolder).toEqual({ path: folder, readOnly: true, over9p: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const axe = await new AxeBuilder({ page })
      .include('[data-testid="share-panel"]')
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
      .analyze();
    expect(axe.violations.map((v) => `${scheme}: ${v.id}`)).toEqual([]);
    await panel.screenshot({ path: `docs/screenshots/share-${scheme}.png` });
  }

  // Set up at each start: while the VM runs, the share waits.
  expect(hangar.cli(['start', id]).code).toBe(0);
  await expect(panel.getByTestId('share-stop')).toBeDisabled();
  await expect(panel.getByTestId('share-choose')).toBeDisabled();
  await expect(panel.getByTestId('share-readonly')).toBeDisabled();
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
  await panel.getByTestId('share-stop').click();
  await expect(panel.getByTestId('share-none')).toBeVisible();
  expect(info().config.sharedFolder).toBeNull();
  // The worker's Hangar is shared with the next spec files: leave it as found.
  hangar.cli(['stop', id, '--force']);
  expect(hangar.cli(['delete', id, '--yes']).code).toBe(0);
});
