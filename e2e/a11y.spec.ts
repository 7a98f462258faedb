// An accessibility check of every screen with axe-core (WCAG 2.1 A and AA), in the light and the
// dark scheme, against a real `hangar serve`: the empty list, the wizard's steps, a list with a
// stopped and a running VM, each tab of the detail view, the dialogs (shortcuts, delete, bulk,
// snapshot, paste), Labs with its editor, the Library and Hosts. Any violation fails with the rule,
// its impact and the elements it names. The main screens are photographed in both schemes for the
// README (docs/screenshots/screens).
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { test, expect, createGuestVm, readyMarker } from './fixtures';
import { ListPage } from './pages/ListPage';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

async function check(page: Page, screen: string, shot?: string): Promise<void> {
  // The noVNC canvas is the guest's own picture, not the app's: its pixels are not text the
  // app chose, so colour rules cannot apply to it.
  const result = await new AxeBuilder({ page }).withTags(TAGS).exclude('.vnc-screen canvas').analyze();
  const found = result.violations.map(
    (v) =>
      `${screen}: ${v.id} (${v.impact}): ${v.nodes.map((n) => `${n.target.join(' ')} ${n.html.slice(0, 90)}`).join(', ')}`,
  );
  // Soft: one run reports every screen's findings, and the test still fails on any.
  expect.soft(found, found.join('\n')).toEqual([]);
  if (shot) {
    const scheme = await page.evaluate(() =>
      matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light',
    );
    await page.screenshot({ path: `docs/screenshots/screens/${shot}-${scheme}.png` });
  }
}

for (const scheme of ['light', 'dark'] as const) {
  test(`every screen passes axe in the ${scheme} scheme`, async ({ page, hangar }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(hangar.url);
    await expect(page.getByTestId('empty-state').or(page.getByTestId('vm-card').first())).toBeVisible();
    if (scheme === 'light') {
      await expect(page.getByTestId('empty-state')).toBeVisible();
      await check(page, 'empty list');
    }

    await page.getByTestId('nav-labs').click();
    await expect(page.getByRole('heading', { level: 1, name: 'Labs' })).toBeVisible();
    await check(page, 'labs');
    await page.getByTestId('lab-new').click();
    await expect(page.getByTestId('lab-editor')).toBeVisible();
    await check(page, 'lab editor', 'lab-editor');
    await page.getByTestId('nav-library').click();
    await expect(page.getByTestId('catalog-entry').first()).toBeVisible();
    await check(page, 'library', 'library');
    await page.getByTestId('nav-hosts').click();
    await expect(page.getByRole('heading', { level: 1, name: 'Hosts' })).toBeVisible();
    await check(page, 'hosts', 'hosts');

    // The wizard, step by step (each step with its defaults).
    await page.getByTestId('nav-vms').click();
    await page.goto(`${hangar.url}#/new`);
    for (let step = 0; step < 7; step++) {
      await expect(page.getByTestId('wiz-step')).toBeVisible();
      await check(page, `wizard step ${step + 1}`, step === 0 ? 'wizard' : undefined);
      if (step === 0) await page.getByTestId('wiz-name').fill(`a11y-${scheme}`);
      if (step === 1) await page.getByTestId('wiz-media-none').check();
      const next = page.getByTestId('wiz-next');
      if (!(await next.isVisible()) || !(await next.isEnabled())) break;
      await next.click();
    }

    const stopped = createGuestVm(hangar, `stopped-${scheme}`);
    const running = createGuestVm(hangar, `running-${scheme}`);
    expect(hangar.cli(['start', running]).code).toBe(0);
    expect(hangar.cli(['wait', running, '--serial', readyMarker, '--timeout', '180']).code).toBe(0);
    await page.goto(hangar.url);
    const list = new ListPage(page);
    await expect(list.card(`stopped-${scheme}`)).toBeVisible();
    await expect(list.card(`running-${scheme}`).getByTestId('card-state')).toHaveText('Running');
    await check(page, 'list', 'list');

    // The list's dialogs: the shortcut sheet, a bulk action's one confirmation.
    await page.keyboard.press('?');
    await expect(page.getByTestId('shortcut-sheet')).toBeVisible();
    await check(page, 'shortcut sheet', 'shortcuts');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('shortcut-sheet')).toHaveCount(0);
    for (const name of [`stopped-${scheme}`, `running-${scheme}`])
      await list.card(name).getByTestId('card-select').check();
    await page.getByTestId('bulk-delete').click();
    await expect(page.getByTestId('bulk-act')).toBeVisible();
    await check(page, 'bulk delete dialog', 'bulk-delete');
    await page.getByTestId('confirm-no').click();
    await expect(page.getByTestId('bulk-act')).toHaveCount(0);
    for (const name of [`stopped-${scheme}`, `running-${scheme}`])
      await list.card(name).getByTestId('card-select').uncheck();

    for (const id of [stopped, running]) {
      for (const tab of [
        'console',
        'serial',
        'monitor',
        'settings',
        'snapshots',
        'rollback',
        'backups',
        'performance',
        'log',
      ]) {
        await page.goto(`${hangar.url}#/vm/${id}/${tab}`);
        await expect(page.getByTestId('detail-name')).toBeVisible();
        await page.waitForLoadState('networkidle');
        const shot = id === running && ['console', 'serial', 'snapshots', 'settings', 'log'].includes(tab);
        await check(
          page,
          `${id === running ? 'running' : 'stopped'} VM, ${tab}`,
          shot ? `vm-${tab}` : undefined,
        );
      }
    }

    // The detail view's dialogs: paste into the screen, delete's confirmation, a new snapshot.
    await page.goto(`${hangar.url}#/vm/${running}/console`);
    await page.getByTestId('vnc-paste').click();
    await expect(page.getByTestId('paste-text')).toBeVisible();
    await check(page, 'paste dialog');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('paste-text')).toHaveCount(0);
    await page.goto(`${hangar.url}#/vm/${stopped}/snapshots`);
    await page.getByTestId('detail-delete').click();
    await expect(page.getByTestId('confirm-yes')).toBeVisible();
    await check(page, 'delete confirmation', 'delete');
    await page.getByTestId('confirm-no').click();
    await expect(page.getByTestId('confirm-yes')).toHaveCount(0);
    await page.getByTestId('snapshot-take').click();
    await expect(page.getByTestId('snapshot-name')).toBeVisible();
    await check(page, 'new snapshot form');
    // The worker's Hangar is shared with the next spec files, which start from an empty list.
    expect(hangar.cli(['stop', running, '--force']).code).toBe(0);
    for (const id of [stopped, running]) expect(hangar.cli(['delete', id, '--yes']).code).toBe(0);
  });
}
