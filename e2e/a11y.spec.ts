// An accessibility check of every screen with axe-core (WCAG 2.1 A and AA), in the light and the
// dark scheme, against a real `hangar serve`: the empty list, the wizard's steps, a list with a
// stopped and a running VM, each tab of the detail view, Labs and the Library. Any violation fails
// with the rule, its impact and the elements it names.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { test, expect, createGuestVm, readyMarker } from './fixtures';
import { ListPage } from './pages/ListPage';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

async function check(page: Page, screen: string): Promise<void> {
  // The noVNC canvas is the guest's own picture, not the app's: its pixels are not text the
  // app chose, so colour rules cannot apply to it.
  const result = await new AxeBuilder({ page }).withTags(TAGS).exclude('.vnc-screen canvas').analyze();
  const found = result.violations.map(
    (v) =>
      `${screen}: ${v.id} (${v.impact}): ${v.nodes.map((n) => `${n.target.join(' ')} ${n.html.slice(0, 90)}`).join(', ')}`,
  );
  // Soft: one run reports every screen's findings, and the test still fails on any.
  expect.soft(found, found.join('\n')).toEqual([]);
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
    await page.getByTestId('nav-library').click();
    await expect(page.getByTestId('catalog-entry').first()).toBeVisible();
    await check(page, 'library');
    await page.getByTestId('nav-hosts').click();
    await expect(page.getByRole('heading', { level: 1, name: 'Hosts' })).toBeVisible();
    await check(page, 'hosts');

    // The wizard, step by step (each step with its defaults).
    await page.getByTestId('nav-vms').click();
    await page.goto(`${hangar.url}#/new`);
    for (let step = 0; step < 7; step++) {
      await expect(page.getByTestId('wiz-step')).toBeVisible();
      await check(page, `wizard step ${step + 1}`);
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
    await check(page, 'list');

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
        await check(page, `${id === running ? 'running' : 'stopped'} VM, ${tab}`);
      }
    }
    // The worker's Hangar is shared with the next spec files, which start from an empty list.
    expect(hangar.cli(['stop', running, '--force']).code).toBe(0);
    for (const id of [stopped, running]) expect(hangar.cli(['delete', id, '--yes']).code).toBe(0);
  });
}
