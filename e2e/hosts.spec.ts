// Issue 16 from the UI, against a real libvirtd (started by the test, as the integration tests
// do): add this machine's libvirt as a host, publish a stopped VM to it from the Publish dialog,
// see it as a card with a host badge and its state, open it (no address without an agent, a
// snapshot taken and reverted there, its screen and its serial console), force it off and start it
// again there.
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { libvirtSkipReason, startLibvirtd, type RunningLibvirtd } from '../test/support/libvirtd';
import { expect, test, createGuestVm } from './fixtures';

const skip = libvirtSkipReason();
if (skip) console.warn(`libvirt hosts e2e skipped: ${skip}`);
const POOL = 'hangar-e2e-pool';

test('add a libvirt host, publish a VM there, force it off and start it again', async ({ page, hangar }) => {
  test.skip(skip !== null, skip ?? '');
  const lv: RunningLibvirtd = await startLibvirtd();
  // QEMU runs as libvirt-qemu under qemu:///system: the pool's folder must let it in.
  const poolDir = mkdtempSync(join(tmpdir(), 'hangar-e2e-pool-'));
  chmodSync(poolDir, 0o755);
  await lv.virsh.run(['pool-define-as', POOL, 'dir', '--target', poolDir]);
  await lv.virsh.run(['pool-start', POOL]);
  const id = createGuestVm(hangar, 'published from the app');
  try {
    await page.goto(`${hangar.url}#/hosts`);
    await expect(page.getByRole('heading', { level: 1, name: 'Hosts' })).toBeVisible();
    await expect(page.getByTestId('hosts-empty')).toBeVisible();
    // A URI with parameters names files on this computer: the app leaves those to the CLI.
    await page.getByTestId('host-add-name').fill('here');
    await page.getByTestId('host-add-uri').fill('qemu+ssh://me@server/system?keyfile=/root/.ssh/id_rsa');
    await page.getByTestId('host-add').click();
    await expect(page.getByTestId('notice-error').filter({ hasText: 'hangar host add' })).toBeVisible();
    await page.getByTestId('host-add-uri').fill(lv.uri);
    await page.getByTestId('host-add').click();
    await expect(page.getByTestId('notice-info').filter({ hasText: 'Host added' })).toBeVisible();
    const panel = page.getByTestId('host-panel').filter({ hasText: 'here' });
    await expect(panel.getByTestId('host-no-domains')).toBeVisible();

    await panel.getByTestId('host-publish').click();
    const dialog = page.getByTestId('publish-dialog');
    await dialog.getByTestId('publish-vm').selectOption(id);
    await dialog.getByTestId('publish-pool').fill(POOL);
    await dialog.getByTestId('publish-type').selectOption('qemu');
    await dialog.getByTestId('publish-confirm').click();
    await expect(page.getByTestId('notice-info').filter({ hasText: 'Published to here' })).toBeVisible({
      timeout: 120_000,
    });
    await expect(dialog).toBeHidden();
    // Focus goes back to the button that opened the dialog.
    await expect(panel.getByTestId('host-publish')).toBeFocused();
    const card = panel.getByTestId('remote-domain').filter({ hasText: 'published from the app' });
    await expect(card.getByTestId('remote-state')).toHaveText('running');
    await expect(card).toContainText('here');
    expect(readdirSync(poolDir).length).toBe(3);

    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const axe = await new AxeBuilder({ page })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
        .analyze();
      expect(
        axe.violations.map((v) => `${scheme}: ${v.id}: ${v.nodes.map((n) => n.html).join(', ')}`),
      ).toEqual([]);
    }

    // The domain's own view: its address, the host's snapshots of it, its screen and serial console.
    await card.getByTestId('remote-open').click();
    const view = page.getByTestId('remote-view');
    await expect(view.getByRole('heading', { name: /published from the app/ })).toBeFocused();
    // The test guest has no agent.
    await expect(view.getByTestId('remote-address')).toContainText('No address: no guest agent answers');
    await expect(view.getByTestId('remote-no-snapshots')).toBeVisible();
    await view.getByTestId('remote-snapshot-name').fill('before');
    await view.getByTestId('remote-snapshot-take').click();
    await expect(view.getByTestId('remote-snapshot')).toHaveText(['beforeRevert']);
    expect(await lv.virsh.snapshotList('published from the app')).toEqual(['before']);
    await expect(view.getByTestId('remote-vnc-status')).toHaveText('connected', { timeout: 30_000 });
    await expect(view.locator('[data-testid="remote-vnc-screen"] canvas')).toBeVisible();
    await view.getByTestId('remote-view-serial').click();
    await expect(view.getByTestId('remote-serial-status')).toHaveText('connected', { timeout: 30_000 });
    const term = view.locator('[data-testid="remote-serial-terminal"]');
    const typeLine = async (line: string) => {
      await term.locator('.xterm-helper-textarea').focus();
      await page.keyboard.type(line);
      await page.keyboard.press('Enter');
    };
    // The guest may have shown its prompt before the console opened: Enter asks for a new one.
    await expect
      .poll(
        async () => {
          await typeLine('');
          return term.locator('.xterm-rows').innerText();
        },
        { timeout: 120_000, intervals: [2000] },
      )
      .toMatch(/hangar-guest# /);
    await typeLine('echo remote-$((6*7))');
    await expect.poll(() => term.locator('.xterm-rows').innerText()).toMatch(/remote-42/);
    await page.screenshot({
      path: fileURLToPath(new URL('../docs/screenshots/remote-serial.png', import.meta.url)),
    });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const axe = await new AxeBuilder({ page })
        .include('[data-testid="remote-view"]')
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
        .analyze();
      expect(
        axe.violations.map((v) => `${scheme} view: ${v.id}: ${v.nodes.map((n) => n.html).join(', ')}`),
      ).toEqual([]);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    page.once('dialog', (d) => void d.accept());
    await view.getByTestId('remote-snapshot-revert').click();
    await expect(page.getByTestId('notice-info').filter({ hasText: 'Reverted' })).toBeVisible({
      timeout: 60_000,
    });
    await view.getByTestId('remote-view-close').click();
    await expect(view).toBeHidden();
    await expect(card.getByTestId('remote-open')).toBeFocused();

    await card.getByTestId('remote-destroy').click();
    await expect(card.getByTestId('remote-state')).toHaveText('shut off');
    await card.getByTestId('remote-start').click();
    await expect(card.getByTestId('remote-state')).toHaveText('running');
    await card.getByTestId('remote-destroy').click();
    await expect(card.getByTestId('remote-state')).toHaveText('shut off');
  } finally {
    await lv.virsh.destroy('published from the app').catch(() => undefined);
    await lv.virsh.undefine('published from the app').catch(() => undefined);
    await lv.virsh.run(['pool-destroy', POOL]).catch(() => undefined);
    await lv.virsh.run(['pool-undefine', POOL]).catch(() => undefined);
    rmSync(poolDir, { recursive: true, force: true });
    await lv.stop();
    hangar.cli(['host', 'remove', 'here']);
    hangar.cli(['delete', id, '--yes']);
  }
});
