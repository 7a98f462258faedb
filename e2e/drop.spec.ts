// Drag and drop onto the window, in Chromium against a real `hangar serve`: an ISO lying in
// ~/Downloads is found where it is (no copy) and opens the wizard with it chosen; one the engine
// cannot find is uploaded into ~/Downloads beside the first, never over it, and chosen the same
// way; a file of another kind is refused with what Hangar takes. The browser never opens the file
// in place of the app.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { makeIso } from '../test/support/iso';
import { ovf, tarOf } from '../test/support/ova';
import { expect, test } from './fixtures';
import { WizardPage } from './pages/WizardPage';

/** Drags a file made in the page (these bytes, name and time) over the window and drops it. */
async function dropFile(
  page: Page,
  name: string,
  bytes: Buffer,
  lastModified: number,
  whileOver?: () => Promise<void>,
): Promise<void> {
  const transfer = await page.evaluateHandle(
    ({ name, b64, lastModified }) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], name, { lastModified }));
      return dt;
    },
    { name, b64: bytes.toString('base64'), lastModified },
  );
  await page.dispatchEvent('main', 'dragenter', { dataTransfer: transfer });
  await expect(page.getByTestId('drop-banner')).toContainText('Drop an ISO or a disk image');
  await page.dispatchEvent('main', 'dragover', { dataTransfer: transfer });
  await whileOver?.();
  await page.dispatchEvent('main', 'drop', { dataTransfer: transfer });
}

test('a dropped ISO opens the wizard with it chosen: found in place, or uploaded beside it', async ({
  page,
  hangar,
}) => {
  const downloads = join(hangar.home, 'Downloads');
  mkdirSync(downloads, { recursive: true });
  const iso = makeIso(join(downloads, 'dropped.iso'));
  const bytes = readFileSync(iso);
  const mtime = Math.floor(statSync(iso).mtimeMs);
  await page.goto(hangar.url);
  await expect(page.getByRole('heading', { level: 1, name: 'Virtual machines' })).toBeVisible();
  const wizard = new WizardPage(page);

  // The same name, size and time as the file in Downloads: that file, not a copy.
  await dropFile(page, 'dropped.iso', bytes, mtime, async () => {
    // The banner while a file is over the window: checked by axe, photographed in both schemes.
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const axe = await new AxeBuilder({ page })
        .include('[data-testid="drop-banner"]')
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
        .analyze();
      expect(axe.violations.map((v) => `${scheme}: ${v.id}`)).toEqual([]);
      await page.screenshot({ path: `docs/screenshots/drop-${scheme}.png` });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });
  await expect(page.getByTestId('wizard')).toBeVisible();
  await expect(page.getByTestId('drop-banner')).toHaveCount(0);
  await page.getByTestId('wiz-name').fill('from a drop');
  await wizard.next();
  await expect(page.getByTestId('wiz-media-iso')).toBeChecked();
  await expect(page.getByTestId('wiz-iso-chosen')).toContainText(iso);
  expect(readdirSync(downloads)).toEqual(['dropped.iso']);

  // Another time: another file as far as the engine can tell, so the page uploads it, and the
  // copy takes a free name.
  await page.getByTestId('wiz-cancel').click();
  await dropFile(page, 'dropped.iso', bytes, mtime - 60_000);
  await expect(page.getByTestId('notice-info')).toContainText('Copied dropped.iso');
  await expect(page.getByTestId('wizard')).toBeVisible();
  await page.getByTestId('wiz-name').fill('from an upload');
  await wizard.next();
  const copy = join(downloads, 'dropped (1).iso');
  await expect(page.getByTestId('wiz-iso-chosen')).toContainText(copy);
  expect(readdirSync(downloads).sort()).toEqual(['dropped (1).iso', 'dropped.iso']);
  expect(readFileSync(copy).equals(bytes)).toBe(true);
  // The engine checks the copy as install media like any ISO: the wizard can go on.
  await expect(page.getByTestId('wiz-next')).toBeEnabled();
  // Recent files: both ISOs are offered under "In Downloads", one click from being chosen.
  const offered = page.getByTestId('wiz-iso-option');
  await expect(offered).toHaveCount(2);
  await offered.filter({ hasText: iso }).first().click();
  await expect(page.getByTestId('wiz-iso-chosen')).toContainText(iso);
  await expect(offered.filter({ hasText: iso }).first()).toHaveAttribute('aria-pressed', 'true');
  await offered.filter({ hasText: copy }).click();
  await expect(page.getByTestId('wiz-iso-chosen')).toContainText(copy);
  await page.screenshot({ path: 'docs/screenshots/drop-wizard.png' });

  // A kind Hangar does not take: said, nothing written, and the app stays where it was.
  await dropFile(page, 'notes.txt', Buffer.from('hello'), mtime);
  await expect(page.getByTestId('notice-error')).toContainText('is not an ISO (.iso), a disk image');
  await expect(page.getByTestId('wizard')).toBeVisible();
  expect(readdirSync(downloads).sort()).toEqual(['dropped (1).iso', 'dropped.iso']);
  // The worker's Hangar (and its Downloads, which the wizard lists) is shared with the next specs.
  rmSync(downloads, { recursive: true });
});

test('a dropped OVA is imported as a VM after its plan is shown', async ({ page, hangar }) => {
  const downloads = join(hangar.home, 'Downloads');
  mkdirSync(downloads, { recursive: true });
  const vmdk = join(hangar.home, 'small.vmdk');
  execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=streamOptimized', vmdk, '16M']);
  const disk = readFileSync(vmdk);
  const ova = join(downloads, 'appliance.ova');
  writeFileSync(
    ova,
    await tarOf([
      { name: 'appliance.ovf', body: Buffer.from(ovf('appliance-disk1.vmdk', disk.length)) },
      { name: 'appliance-disk1.vmdk', body: disk },
    ]),
  );
  await page.goto(hangar.url);
  await expect(page.getByRole('heading', { level: 1, name: 'Virtual machines' })).toBeVisible();
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await dropFile(page, 'appliance.ova', readFileSync(ova), Math.floor(statSync(ova).mtimeMs));
  await expect(page).toHaveURL(/#\/vm\/[a-z0-9]{12}\/settings/, { timeout: 60_000 });
  expect(asked).toContain('as the VM "appliance"');
  const id = /#\/vm\/([a-z0-9]{12})\//.exec(page.url())![1]!;
  // The worker's Hangar is shared with the next spec files.
  expect(hangar.cli(['delete', id, '--yes']).code).toBe(0);
  // The import converted the OVA's disk into the Library, which the next specs expect empty.
  const images = hangar.cli(['image', 'list']).json as { id: string; name: string }[];
  for (const image of images.filter((i) => i.name.startsWith('appliance')))
    expect(hangar.cli(['image', 'rm', image.id]).code).toBe(0);
  expect((hangar.cli(['image', 'list']).json as unknown[]).length).toBe(0);
  rmSync(downloads, { recursive: true });
});
