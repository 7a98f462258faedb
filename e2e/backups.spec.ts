// Issue 15 from the UI: back up a running VM on the Backups tab, verify it, break the VM's data,
// restore the backup as a new VM that boots with the data as it was, then into the VM itself.
import { expect, test, createGuestVm, readyMarker, type Hangar } from './fixtures';
import { DetailPage } from './pages/DetailPage';

function ready(hangar: Hangar, id: string): void {
  const r = hangar.cli(['wait', id, '--serial', readyMarker, '--timeout', '120']);
  expect(r.code, r.stderr).toBe(0);
}

test('back up on the Backups tab, break the VM, restore the backup as a new VM', async ({ page, hangar }) => {
  const id = createGuestVm(hangar, 'backed up');
  expect(hangar.cli(['start', id]).code).toBe(0);
  ready(hangar, id);
  await page.goto(`${hangar.url}#/vm/${id}/serial`);
  const detail = new DetailPage(page);
  await detail.serialRun('echo good > /mnt/disk/state; sync; echo wrote-$((1+300))', /wrote-301/);

  await detail.openTab('backups');
  await expect(page.getByTestId('backup-empty')).toBeVisible();
  await page.getByTestId('backup-create').click();
  await expect(page.getByTestId('notice-info').filter({ hasText: 'Full backup made' })).toBeVisible({
    timeout: 120_000,
  });
  const row = page.getByTestId('backup-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('full');
  await expect(row).toContainText('live');
  await row.getByTestId('backup-verify').click();
  await expect(row.getByTestId('backup-verified')).toHaveText('intact', { timeout: 60_000 });

  // Break it: the data the backup holds is overwritten in the VM.
  await detail.openTab('serial');
  await detail.serialRun('echo broken > /mnt/disk/state; sync; echo wrote-$((1+301))', /wrote-302/);

  await detail.openTab('backups');
  await page.getByTestId('backup-restore').click();
  const dialog = page.getByTestId('restore-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('restore-name').fill('backed up');
  await expect(dialog.getByTestId('field-error')).toContainText('has this name already');
  await dialog.getByTestId('restore-name').fill('backed up, restored');
  await dialog.getByTestId('restore-confirm').click();
  await expect(page.getByTestId('detail-name')).toHaveText('backed up, restored', { timeout: 120_000 });
  const restored = await detail.vmId();
  expect(restored).not.toBe(id);

  await page.getByTestId('detail-start').click();
  await detail.waitState('running');
  ready(hangar, restored);
  await detail.openTab('serial');
  await detail.serialRun(
    'echo 3 > /proc/sys/vm/drop_caches; cat /mnt/disk/state; echo read-$((1+302))',
    /good\s*\n.*read-303/,
  );

  expect(hangar.cli(['stop', restored, '--force']).code).toBe(0);

  // In place: the broken VM itself gets the backup back, once stopped, after a yes.
  await page.goto(`${hangar.url}#/vm/${id}/backups`);
  const inPlace = page.getByTestId('backup-restore-in-place');
  await expect(inPlace).toBeDisabled();
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
  await expect(inPlace).toBeEnabled();
  await inPlace.click();
  await page.getByTestId('confirm-no').click();
  await inPlace.click();
  await page.getByTestId('confirm-yes').click();
  await expect(page.getByTestId('notice-info').filter({ hasText: 'Backup restored in place' })).toContainText(
    'What it held before is the snapshot "before restoring',
    { timeout: 120_000 },
  );
  await page.getByTestId('detail-start').click();
  await detail.waitState('running');
  ready(hangar, id);
  await detail.openTab('serial');
  await detail.serialRun(
    'echo 3 > /proc/sys/vm/drop_caches; cat /mnt/disk/state; echo read-$((1+303))',
    /good\s*\n.*read-304/,
  );
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);
  for (const vm of [id, restored]) expect(hangar.cli(['delete', vm, '--yes']).code).toBe(0);
});

test('instant restore from the Backups tab: the new VM runs at once with the backup data, then is whole', async ({
  page,
  hangar,
}) => {
  const id = createGuestVm(hangar, 'instant source');
  expect(hangar.cli(['start', id]).code).toBe(0);
  ready(hangar, id);
  await page.goto(`${hangar.url}#/vm/${id}/serial`);
  const detail = new DetailPage(page);
  await detail.serialRun('echo kept > /mnt/disk/state; sync; echo wrote-$((1+400))', /wrote-401/);
  const made = hangar.cli(['backup', 'create', id]);
  expect(made.code, made.stderr).toBe(0);
  expect(hangar.cli(['stop', id, '--force']).code).toBe(0);

  await detail.openTab('backups');
  await page.getByTestId('backup-restore').click();
  const dialog = page.getByTestId('restore-dialog');
  await dialog.getByTestId('restore-name').fill('instant copy');
  await dialog.getByTestId('restore-instant').check();
  await dialog.getByTestId('restore-confirm').click();
  await expect(page.getByTestId('detail-name')).toHaveText('instant copy', { timeout: 120_000 });
  const restored = await detail.vmId();
  await detail.waitState('running');
  ready(hangar, restored);
  await detail.openTab('serial');
  await detail.serialRun('cat /mnt/disk/state; echo read-$((1+401))', /kept\s*\n.*read-402/);
  // Streamed in: the VM's history says so, and it no longer reads from the backup.
  const streamed = () =>
    ((hangar.cli(['history', restored]).json as { what: string; ok: boolean }[] | null) ?? []).some(
      (e) => e.what === 'instant restore' && e.ok,
    );
  await expect.poll(streamed, { timeout: 120_000 }).toBe(true);
  const info = hangar.cli(['info', restored]).json as { config: { instantRestore: unknown } };
  expect(info.config.instantRestore).toBeNull();
  for (const v of [restored, id]) {
    hangar.cli(['stop', v, '--force']);
    expect(hangar.cli(['delete', v, '--yes']).code).toBe(0);
  }
});
