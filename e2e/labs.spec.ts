// A lab through the UI against real QEMU: a lab file opened from disk in the Labs view, checked,
// planned and applied; the lab's picture and VMs; reset to its baseline; destroyed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect, createGuestVm, readyMarker } from './fixtures';

const LAB = `version: 1
name: ui
baseline: on-ready
networks:
  lan: { subnet: 10.66.0.0/24 }
vms:
  alpha:
    template: tiny
    memory: 256M
    nics: [{ network: lan }]
    ready: ['serial:${readyMarker}']
  beta:
    template: tiny
    memory: 256M
    nics: [{ network: lan }]
    ready: ['serial:${readyMarker}']
    dependsOn: [alpha]
`;

test('a lab opened from a file is planned, brought up, reset and destroyed', async ({ page, hangar }) => {
  createGuestVm(hangar, 'tiny', '16M');
  expect(hangar.cli(['template', 'set', 'tiny']).code).toBe(0);
  const file = join(hangar.home, 'ui.lab.yaml');
  writeFileSync(file, LAB);

  await page.goto(hangar.url);
  await page.getByTestId('nav-labs').click();
  await expect(page.getByTestId('labs-empty')).toBeVisible();
  await page.getByTestId('lab-new').click();

  // A mistake is shown with its line as it is typed, and Plan waits for a valid file.
  await page
    .getByTestId('lab-text')
    .fill('version: 1\nname: ui\nvms:\n  a: { template: tiny, cpus: lots }\n');
  await expect(page.getByTestId('lab-errors')).toContainText('line 4');
  await expect(page.getByTestId('lab-plan')).toBeDisabled();

  await page.getByTestId('lab-open').setInputFiles(file);
  await expect(page.getByTestId('lab-text')).toHaveValue(LAB);
  await expect(page.getByTestId('lab-errors')).toHaveCount(0);
  await page.getByTestId('lab-plan').click();
  await expect(page.getByTestId('lab-plan-result')).toContainText('create alpha');
  await expect(page.getByTestId('lab-plan-result')).toContainText('create beta');
  await page.getByTestId('lab-apply').click();

  const panel = page.locator('[data-testid="lab-panel"][data-lab="ui"]');
  await expect(panel.locator('[data-testid="lab-vm"][data-state="running"]')).toHaveCount(2, {
    timeout: 240_000,
  });
  await expect(panel.getByTestId('lab-topology-vm')).toHaveCount(2);
  await expect(panel.getByTestId('lab-switch')).toContainText('lan: 2 connected');
  await expect(panel.getByTestId('lab-busy')).toHaveCount(0, { timeout: 240_000 });
  await expect(panel).toContainText('alpha.ui.internal');
  const status = hangar.cli(['lab', 'status', 'ui']).json as { baseline: string | null };
  expect(status.baseline).not.toBeNull();

  await panel.getByTestId('lab-reset').click();
  await expect(page.getByText(/was reset to its baseline in \d+ ms/)).toBeVisible({ timeout: 60_000 });
  await expect(panel.locator('[data-testid="lab-vm"][data-state="running"]')).toHaveCount(2);

  await panel.getByTestId('lab-destroy').click();
  await expect(panel.getByRole('alertdialog')).toContainText('ui-alpha, ui-beta');
  await panel.getByTestId('lab-destroy-confirm').click();
  await expect(page.getByTestId('labs-empty')).toBeVisible({ timeout: 60_000 });
  // Only the lab's VMs went: the template (and VMs other specs of this worker made) stay.
  const left = (hangar.cli(['list']).json as { name: string }[]).map((v) => v.name);
  expect(left).toContain('tiny');
  expect(left.filter((n) => n.startsWith('ui-'))).toEqual([]);
});

test('Export as lab writes a lab file from chosen VMs and opens it, highlighted, in the editor', async ({
  page,
  hangar,
}) => {
  createGuestVm(hangar, 'exp-tpl', '16M');
  expect(hangar.cli(['template', 'set', 'exp-tpl']).code).toBe(0);
  createGuestVm(hangar, 'exp-plain', '16M');

  await page.goto(hangar.url);
  await page.getByTestId('nav-labs').click();
  await page.getByTestId('lab-export-open').click();
  await page.getByTestId('lab-export-name').fill('Not A Name');
  await expect(page.getByTestId('lab-export-run')).toBeDisabled();
  await page.getByTestId('lab-export-name').fill('exp');
  await page.getByTestId('lab-export-vm-exp-tpl').check();
  await page.getByTestId('lab-export-vm-exp-plain').check();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('lab-export-run').click(),
  ]);
  expect(download.suggestedFilename()).toBe('exp.lab.yaml');
  const text = readFileSync((await download.path())!, 'utf8');
  expect(text).toMatch(/^name: exp$/m);
  expect(text).toMatch(/exp-tpl:\n\s+template: exp-tpl/);
  expect(text).toMatch(/exp-plain:\n\s+vm: exp-plain/);

  // The same text in the editor, valid, with its keys coloured by the YAML lexer.
  await expect(page.getByTestId('lab-text')).toHaveValue(text);
  await expect(page.getByTestId('lab-errors')).toHaveCount(0);
  await expect(page.locator('.lab-highlight .y-key').filter({ hasText: 'vms' })).toHaveCount(1);
  await expect(page.locator('.lab-highlight .y-comment').first()).toContainText('Exported by Hangar');
  await page.getByTestId('lab-plan').click();
  await expect(page.getByTestId('lab-plan-result')).toContainText('create exp-tpl');
  await expect(page.getByTestId('lab-plan-result')).toContainText('change exp-plain');
});
