// Issue 15's in-place restore against real QEMU and the tiny guest: a point goes back into the VM
// it was taken of, the state from before is a snapshot (so reverting undoes the restore), a
// running VM and a resized disk are refused before anything changes, and the backup chain ends
// (the next backup is a full one, saying why).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import { createBackup } from '../../src/main/engine/backup';
import { restoreInPlace } from '../../src/main/engine/backup/restore-in-place';
import { revertSnapshot } from '../../src/main/engine/snapshot-revert';
import { resizeDisk } from '../../src/main/engine/vms/disk-ops';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, runOnce, shell } from '../support/vms';

const t = tempHome('hangar-bk-inplace-');
let engine: Engine;
let vmId: string;

beforeAll(async () => {
  engine = await openEngine(t);
  vmId = (await makeGuestVm(engine, 'in-place', { disk: { kind: 'new', size: '128M' } })).id;
});
afterAll(async () => {
  if (engine && !engine.isStopped(vmId)) await engine.stop(vmId, { force: true });
  await closeEngine(engine, t);
});

/** Boots the guest, runs one command on its shell, and stops it again. */
async function inGuest(command: string): Promise<string> {
  await engine.start(vmId);
  try {
    return await runOnce(engine, vmId, command);
  } finally {
    await engine.stop(vmId, { force: true });
  }
}

describe('hangar backup restore --in-place', () => {
  let backupId: string;

  it('refuses a running VM and changes nothing', async () => {
    await engine.start(vmId);
    const sh = await shell(engine, vmId, 120_000);
    expect((await sh.run('echo one >/mnt/disk/mark && sync')).status).toBe(0);
    const b = await createBackup(engine, vmId);
    backupId = b.id;
    expect((await sh.run('echo two >/mnt/disk/mark && sync')).status).toBe(0);
    await expect(restoreInPlace(engine, backupId)).rejects.toThrow(/is running; stop it before you restore/);
    expect(engine.resolve(vmId).snapshots).toEqual([]);
    sh.close();
    await engine.stop(vmId, { force: true });
  }, 300_000);

  it('puts the point back, keeping the state from before as a snapshot that undoes it', async () => {
    const r = await restoreInPlace(engine, backupId);
    expect(r.keptAs).toBe(`before restoring ${backupId}`);
    expect(r.droppedBitmaps).toEqual([expect.stringMatching(/^disk0: hangar-[0-9a-f]{12}$/)]);
    expect(engine.resolve(vmId).snapshots.map((s) => s.name)).toEqual([r.keptAs]);
    expect(await inGuest('cat /mnt/disk/mark')).toMatch(/^one\s*$/m);
    await revertSnapshot(engine, vmId, r.keptAs);
    expect(await inGuest('cat /mnt/disk/mark')).toMatch(/^two\s*$/m);
  }, 300_000);

  it('ends the backup chain: the next backup is a full one, saying why', async () => {
    const next = await createBackup(engine, vmId);
    expect(next.kind).toBe('full');
    expect(next.fullReason).toBeTruthy();
  }, 120_000);

  it('refuses a disk resized since the backup, before anything changes', async () => {
    await resizeDisk(engine, vmId, 'disk0', '256M');
    const before = engine.resolve(vmId).snapshots.length;
    await expect(restoreInPlace(engine, backupId)).rejects.toThrow(
      /cannot go back into "in-place" in place: disk disk0 is 268435456 bytes now and was 134217728.*--name NAME/,
    );
    expect(engine.resolve(vmId).snapshots.length).toBe(before);
  });
});
