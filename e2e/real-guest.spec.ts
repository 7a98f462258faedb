// A VM from a cloud image, made in the wizard as a user would: the Debian image the project builds
// from packages (scripts/guest/debian), the user's SSH key found in ~/.ssh and ticked, a user
// name. The card follows the guest through boot and cloud-init to Ready with its address, and the
// SSH command it offers logs in with that key through Hangar's forward.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, expect } from './fixtures';
import { ListPage } from './pages/ListPage';
import { WizardPage } from './pages/WizardPage';
import { DetailPage } from './pages/DetailPage';

const root = fileURLToPath(new URL('..', import.meta.url));
const image = join(root, '.cache', 'guest', 'debian-bookworm', 'disk.qcow2');
// A first boot under TCG with cloud-init is 50-90 s on a quiet machine; CI shares two cores.
const READY_MS = 8 * 60_000;

test.beforeAll(() => {
  // Built from Debian packages once and cached by its inputs hash (a second when cached).
  test.setTimeout(30 * 60_000);
  execFileSync('bash', [join(root, 'scripts', 'guest', 'debian', 'build.sh'), 'bookworm'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  expect(existsSync(image)).toBe(true);
});

test('a cloud image from the wizard reaches Ready with its address, and its SSH command works', async ({
  page,
  hangar,
}) => {
  test.setTimeout(READY_MS + 5 * 60_000);
  const ssh = join(hangar.home, '.ssh');
  mkdirSync(ssh, { recursive: true, mode: 0o700 });
  const key = join(ssh, 'id_ed25519');
  if (!existsSync(key)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e', '-f', key]);

  const wizard = new WizardPage(page);
  await page.goto(hangar.url);
  await new ListPage(page).newVm();
  await page.getByTestId('wiz-name').fill('Cloud guest');
  await page.getByTestId('wiz-os').selectOption('linux');
  await wizard.next();
  await page.getByTestId('wiz-media-cloud').check();
  await wizard.chooseFile('wiz-cloud-image', image);
  // The key in ~/.ssh is offered and ticked; the user name is typed.
  const offered = page.getByTestId('wiz-ci-key');
  await expect(offered).toHaveCount(1);
  await expect(offered).toBeChecked();
  await page.getByTestId('wiz-ci-user').fill('tester');
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'wizard-cloud.png'), fullPage: true });
  await wizard.next();
  await page.getByTestId('wiz-cpus').fill('2');
  await page.getByTestId('wiz-memory').fill('1024');
  await wizard.next();
  await page.getByTestId('wiz-disk-size').fill('3G');
  await wizard.next();
  await wizard.next(); // firmware: the profile's default
  await wizard.next(); // network: NAT (the SSH forward is added by Hangar)
  await expect(page.getByTestId('wiz-review')).toContainText('user tester, 1 SSH key');
  await wizard.create();

  const detail = new DetailPage(page);
  await expect(page.getByTestId('vm-detail')).toBeVisible();
  const id = await detail.vmId();
  await page.getByTestId('detail-start').click();
  await detail.waitState('running');

  await page.goto(hangar.url);
  const card = page.locator(`[data-testid="vm-card"][data-vm-id="${id}"]`);
  // The readiness line moves on as the guest boots; the first stage is seen while it boots.
  await expect(card.getByTestId('card-readiness')).toBeVisible({ timeout: 60_000 });
  await expect(card.getByTestId('card-readiness')).toHaveAttribute('data-stage', 'ready', {
    timeout: READY_MS,
  });
  await expect(card.getByTestId('card-ip')).toHaveText(/^10\.0\.2\.\d+$/);
  await page.screenshot({ path: join(root, 'docs', 'screenshots', 'cloud-ready.png') });

  const command = await card.getByTestId('copy-ssh').getAttribute('data-command');
  const m = /^ssh -p (\d+) tester@127\.0\.0\.1$/.exec(command ?? '');
  expect(m, `the offered command: ${command}`).not.toBeNull();
  // The command as offered, with the key the wizard ticked: the guest says who it is.
  const r = spawnSync(
    'ssh',
    [
      ...['-i', key, '-p', m![1]!, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no'],
      ...['-o', `UserKnownHostsFile=${join(ssh, 'known_hosts')}`, 'tester@127.0.0.1', 'hostname; id -un'],
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(r.stderr).not.toMatch(/Permission denied/);
  expect(r.stdout.split('\n').slice(0, 2)).toEqual(['cloud-guest', 'tester']);

  // The detail view says the same, with cloud-init's status.
  await card.getByTestId('card-name').click();
  await expect(page.getByTestId('guest-cloud-init')).toHaveText('done');
  await expect(page.getByTestId('guest-ip')).toHaveText(/^10\.0\.2\.\d+$/);

  // Leave the worker's home as the next spec expects it: no VMs.
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
  expect(hangar.cli(['delete', id, '--yes']).code).toBe(0);
});
