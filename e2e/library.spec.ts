// The image library through the UI against the real engine: a vdi picked in the file picker is
// converted into the Library page; the wizard makes a linked clone of it that boots to the
// guest's ready marker; an ISO's OS is recognised from its volume id and fills the defaults;
// a file that is not install media is refused as an ISO; a catalog entry is downloaded from a
// local server and verified; an OVA is imported as a VM after its plan is shown.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect, guestIso, readyMarker } from './fixtures';
import { ListPage } from './pages/ListPage';
import { PickerPage } from './pages/PickerPage';
import { WizardPage } from './pages/WizardPage';
import { serveFiles } from '../test/support/file-server';
import { ovf, tarOf } from '../test/support/ova';

test('an image added on the Library page becomes a booting linked clone through the wizard', async ({
  page,
  hangar,
}) => {
  const vdi = join(hangar.home, 'tiny.vdi');
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vdi', guestIso, vdi]);
  await page.goto(hangar.url);
  await page.getByTestId('nav-library').click();
  await expect(page.getByTestId('library-empty')).toBeVisible();
  await expect(page.getByTestId('catalog-entry').first()).toBeVisible();
  await expect(page.getByTestId('library-catalog')).toContainText('Debian 12');

  await PickerPage.pick(page, 'library-add', vdi);
  const row = page.getByTestId('library-image');
  await expect(row).toHaveCount(1, { timeout: 60_000 });
  await expect(row).toContainText('tiny.vdi');
  await expect(row).toContainText('Converted from vdi');
  await expect(row).toContainText('No VM');

  const wizard = new WizardPage(page);
  await page.getByTestId('nav-vms').click();
  await new ListPage(page).newVm();
  await page.getByTestId('wiz-name').fill('clone-of-tiny');
  await wizard.next();
  await page.getByTestId('wiz-media-library').check();
  // Next waits for a choice.
  await expect(page.getByTestId('wiz-next')).toBeDisabled();
  await page.getByTestId('wiz-library-option').click();
  await wizard.next();
  await page.getByTestId('wiz-cpus').fill('1');
  await page.getByTestId('wiz-memory').fill('256');
  await wizard.next();
  await expect(page.getByTestId('wiz-step')).toContainText('A linked clone of tiny.vdi');
  await wizard.next();
  await page.getByTestId('wiz-firmware').selectOption('bios');
  await wizard.next();
  await wizard.next();
  await expect(page.getByTestId('wiz-review')).toContainText('Library image tiny.vdi');
  await wizard.create();
  await expect(page).toHaveURL(/#\/vm\/[a-z0-9]{12}\//, { timeout: 30_000 });
  const id = /#\/vm\/([a-z0-9]{12})\//.exec(page.url())![1]!;
  expect(hangar.cli(['start', id]).code).toBe(0);
  expect(hangar.cli(['wait', id, '--serial', readyMarker, '--timeout', '180']).code).toBe(0);
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);

  await page.getByTestId('nav-library').click();
  await expect(row).toContainText('clone-of-tiny');
  await expect(row.getByRole('button', { name: 'Remove tiny.vdi' })).toBeDisabled();
});

test('the wizard recognises an ISO by its volume id, and refuses a file that is not install media', async ({
  page,
  hangar,
}) => {
  // A tiny ISO labelled as Debian 11's netinst: osinfo-db's pattern recognises the label.
  const tree = join(hangar.home, 'isotree');
  mkdirSync(tree);
  writeFileSync(join(tree, 'README'), 'not really Debian\n');
  const iso = join(hangar.home, 'debian-11.iso');
  execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'Debian 11.5.0 amd64 n', '-o', iso, tree], {
    stdio: 'pipe',
  });
  const notIso = join(hangar.home, 'notes.iso');
  writeFileSync(notIso, 'plain text, named like an ISO\n'.repeat(100));

  const wizard = new WizardPage(page);
  await page.goto(hangar.url);
  await new ListPage(page).newVm();
  await page.getByTestId('wiz-name').fill('recognised');
  await wizard.next();
  await page.getByTestId('wiz-media-iso').check();
  await wizard.chooseFile('wiz-iso', notIso);
  await expect(page.getByTestId('wiz-step')).toContainText('not install media');
  await expect(page.getByTestId('wiz-next')).toBeDisabled();

  await wizard.chooseFile('wiz-iso', iso);
  await expect(page.getByTestId('wiz-iso-os')).toContainText('Debian 11');
  await wizard.next();
  // osinfo recommends 1 GiB for Debian 11; the wizard never proposes more than half the host.
  const memory = Number(await page.getByTestId('wiz-memory').inputValue());
  expect(memory).toBeGreaterThan(0);
  expect(memory).toBeLessThanOrEqual(1024);
  await wizard.next();
  await expect(page.getByTestId('wiz-disk-size')).toHaveValue('20G');
  // A size beyond the host's free space is allowed (qcow2 grows as written) but said.
  await page.getByTestId('wiz-disk-size').fill('60T');
  await expect(page.getByTestId('wiz-disk-space-warning')).toContainText('60 TiB');
  await page.getByTestId('wiz-disk-size').fill('64M');
  await expect(page.getByTestId('wiz-disk-space-warning')).toHaveCount(0);
  await wizard.next();
  await wizard.next();
  await wizard.next();
  await expect(page.getByTestId('wiz-review')).toContainText('debian11');
  await wizard.create();
  await expect(page).toHaveURL(/#\/vm\/[a-z0-9]{12}\//, { timeout: 30_000 });
  // The card names the OS osinfo recognised, with its family's glyph.
  await page.getByTestId('nav-vms').click();
  const card = page.locator('[data-testid="vm-card"][aria-label="recognised"]');
  await expect(card.getByTestId('card-os')).toHaveText('🐧 Debian 11');
});

test('a catalog entry is downloaded and verified from the Library page, and an OVA is imported as a VM', async ({
  page,
  hangar,
}) => {
  // The user's catalog names an image on a local server standing in for the internet.
  // (Another cluster size than a plain conversion: bytes of its own, whatever else the library holds.)
  const pub = join(hangar.home, 'pub.qcow2');
  execFileSync('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'qcow2',
    '-o',
    'cluster_size=131072',
    guestIso,
    pub,
  ]);
  writeFileSync(
    join(hangar.home, 'SHA256SUMS'),
    `${createHash('sha256').update(readFileSync(pub)).digest('hex')}  pub.qcow2\n`,
  );
  const server = await serveFiles({ '/pub.qcow2': pub, '/SHA256SUMS': join(hangar.home, 'SHA256SUMS') });
  try {
    writeFileSync(
      join(hangar.env.HANGAR_HOME!, 'catalog.json'),
      JSON.stringify([
        {
          id: 'local-tiny',
          name: 'Tiny guest from the local mirror',
          kind: 'cloud',
          format: 'qcow2',
          url: `${server.url}/pub.qcow2`,
          checksums: { url: `${server.url}/SHA256SUMS` },
        },
      ]),
    );
    await page.goto(hangar.url);
    await page.getByTestId('nav-library').click();
    await page.getByTestId('catalog-pull-local-tiny').click();
    await expect(page.getByTestId('catalog-pull-local-tiny')).toHaveText('In the library', {
      timeout: 60_000,
    });
    const row = page.getByTestId('library-image').filter({ hasText: 'local-tiny' });
    await expect(row).toContainText('Downloaded, sha256 verified');
  } finally {
    await server.close();
  }
  // The downloaded image, as a linked clone made in the wizard.
  const wizard = new WizardPage(page);
  await page.getByTestId('nav-vms').click();
  await new ListPage(page).newVm();
  await page.getByTestId('wiz-name').fill('from-catalog');
  await wizard.next();
  await page.getByTestId('wiz-media-library').check();
  await page.getByTestId('wiz-library-option').filter({ hasText: 'local-tiny' }).click();
  for (let i = 0; i < 5; i++) await wizard.next();
  await expect(page.getByTestId('wiz-review')).toContainText('A linked clone of local-tiny');
  await wizard.create();
  await expect(page).toHaveURL(/#\/vm\/[a-z0-9]{12}\//, { timeout: 30_000 });
  await page.getByTestId('nav-library').click();
  await expect(page.getByTestId('library-image').filter({ hasText: 'local-tiny' })).toContainText(
    'from-catalog',
  );

  // An OVA: the page shows what it would make and not honour, then imports it as a VM.
  const vmdk = join(hangar.home, 'disk.vmdk');
  execFileSync('qemu-img', [
    'convert',
    '-f',
    'raw',
    '-O',
    'vmdk',
    '-o',
    'subformat=streamOptimized',
    guestIso,
    vmdk,
  ]);
  const disk = readFileSync(vmdk);
  const desc = Buffer.from(ovf('appliance-disk1.vmdk', disk.length));
  const ova = join(hangar.home, 'appliance.ova');
  writeFileSync(
    ova,
    await tarOf([
      { name: 'appliance.ovf', body: desc },
      { name: 'appliance-disk1.vmdk', body: disk },
    ]),
  );
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  await PickerPage.pick(page, 'library-add', ova);
  await expect(page).toHaveURL(/#\/vm\/[a-z0-9]{12}\//, { timeout: 60_000 });
  expect(asked).toContain('as the VM "appliance" (1 CPU, 320 MiB, bios)');
  expect(asked).toContain('vmxnet3: virtio is used instead');
  const id = /#\/vm\/([a-z0-9]{12})\//.exec(page.url())![1]!;
  expect(hangar.cli(['start', id]).code).toBe(0);
  expect(hangar.cli(['wait', id, '--serial', readyMarker, '--timeout', '180']).code).toBe(0);
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
});
