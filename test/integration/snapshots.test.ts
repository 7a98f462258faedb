// Snapshots restore disk contents exactly: data is written in the guest, snapshotted, changed,
// reverted, and its checksum read back in the guest from the disk (caches dropped first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/main/engine/engine';
import { createDispatcher } from '../../src/main/api/dispatch';
import { createSnapshot, deleteSnapshot, listSnapshots } from '../../src/main/engine/snapshots';
import { revertSnapshot } from '../../src/main/engine/snapshot-revert';
import type { SerialConsole } from '../../src/main/engine/consoles/serial';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, shell } from '../support/vms';
import { FakeAgent } from '../../src/main/engine/agent/fake-agent';
import { GuestAgent } from '../../src/main/engine/agent';

const t = tempHome();
let engine: Engine;

beforeAll(async () => {
  engine = await openEngine(t);
});
afterAll(() => closeEngine(engine, t));

async function writeRandom(sh: SerialConsole): Promise<string> {
  const r = await sh.run(
    'dd if=/dev/urandom of=/mnt/disk/data bs=64k count=16 2>/dev/null && sync && md5sum /mnt/disk/data',
  );
  expect(r.status).toBe(0);
  return r.output.split(' ')[0]!;
}

async function diskChecksum(sh: SerialConsole): Promise<string> {
  // Read from the disk, not from page cache that a RAM snapshot would also bring back.
  const r = await sh.run('sync; echo 3 > /proc/sys/vm/drop_caches; md5sum /mnt/disk/data');
  expect(r.status).toBe(0);
  return r.output.split(' ')[0]!;
}

describe('snapshots', () => {
  it('reverts a running VM to a snapshot with RAM, byte for byte', async () => {
    const vm = await makeGuestVm(engine, 'snap-live');
    await engine.start(vm.id);
    const sh = await shell(engine, vm.id);
    const before = await writeRandom(sh);
    const progress: number[] = [];
    engine.on('progress', (p) => p.id === vm.id && progress.push(p.percent));
    const snap = await createSnapshot(engine, vm.id, 'clean state ✓', 'before the change');
    expect(snap.vmState).toBe(true);
    expect(progress.at(-1)).toBe(100);
    // Its saved RAM is stored in the image past the disk's end, referenced by the snapshot alone
    // (QEMU drops it from the live disk's tables), so it is space the snapshot holds on its own.
    const [taken] = await listSnapshots(engine, vm.id);
    expect(taken!.ramBytes).toBeGreaterThan(1 << 20);
    expect(taken!.ownBytes).toBeGreaterThanOrEqual(taken!.ramBytes);
    expect(taken!.ownBytes).toBeLessThan(taken!.ramBytes + 8 * 2 ** 20);
    const after = await writeRandom(sh);
    expect(after).not.toBe(before);
    await revertSnapshot(engine, vm.id, 'clean state ✓');
    expect(engine.runtime(vm.id).state).toBe('running');
    sh.write('\n');
    expect(await diskChecksum(sh)).toBe(before);
    sh.close();
    const list = await listSnapshots(engine, vm.id);
    expect(list).toMatchObject([
      { name: 'clean state ✓', current: true, vmState: true, missingIn: [], thumbnail: true },
    ]);
    // The guest's RAM went into the snapshot: its size is what the row shows.
    expect(list[0]!.ramBytes).toBeGreaterThan(1 << 20);
    // Still its own after the revert (the live tables point at it only until the next snapshot).
    expect(list[0]!.ownBytes).toBeGreaterThanOrEqual(list[0]!.ramBytes);
    const { png } = (await createDispatcher(engine).call('snapshot.thumbnail', {
      vm: vm.id,
      snapshot: snap.id,
    })) as { png: string | null };
    expect(Buffer.from(png!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    await engine.stop(vm.id, { force: true });
  });

  it('takes disk-only snapshots while stopped and reverts them', async () => {
    const vm = await makeGuestVm(engine, 'snap-off');
    await engine.start(vm.id);
    let sh = await shell(engine, vm.id);
    const first = await writeRandom(sh);
    sh.close();
    await engine.stop(vm.id, { timeoutMs: 30_000 });
    const snap = await createSnapshot(engine, vm.id, 'offline');
    expect(snap.vmState).toBe(false);
    // No screen to capture and no RAM saved.
    expect(await listSnapshots(engine, vm.id)).toMatchObject([{ thumbnail: false, ramBytes: 0 }]);
    await engine.start(vm.id);
    sh = await shell(engine, vm.id);
    expect(await writeRandom(sh)).not.toBe(first);
    sh.close();
    await engine.stop(vm.id, { timeoutMs: 30_000 });
    await revertSnapshot(engine, vm.id, 'offline');
    await engine.start(vm.id);
    sh = await shell(engine, vm.id);
    expect(await diskChecksum(sh)).toBe(first);
    sh.close();
    await engine.stop(vm.id, { force: true });
  });

  it('takes a disk-only snapshot of a running VM, says it is crash-consistent without an agent, and reverts it by restarting', async () => {
    const vm = await makeGuestVm(engine, 'snap-disk-live');
    await engine.start(vm.id);
    let sh = await shell(engine, vm.id);
    const before = await writeRandom(sh);
    const snap = await createSnapshot(engine, vm.id, 'disks only', '', { ram: false });
    expect(snap).toMatchObject({ vmState: false, consistency: 'crash' });
    expect(snap.warning).toBeUndefined();
    // An agent that freezes but never confirms the thaw (a fake one, in the agent's place): the
    // snapshot is taken, and the user is told the guest may still be frozen.
    const fake = await FakeAgent.start();
    fake.handle('guest-fsfreeze-freeze', () => ({ return: 1 }));
    fake.handle('guest-fsfreeze-thaw', () => ({ error: { class: 'GenericError', desc: 'thaw failed' } }));
    const agents = (engine as unknown as { agents: Map<string, GuestAgent> }).agents;
    agents.set(vm.id, new GuestAgent(fake.path));
    try {
      const frozen = await createSnapshot(engine, vm.id, 'left frozen', '', { ram: false });
      expect(frozen.consistency).toBe('frozen');
      expect(frozen.warning).toMatch(
        /did not confirm that it thawed .*thaw failed.*writes in the guest may hang/s,
      );
      expect(fake.received.filter((c) => c.execute === 'guest-fsfreeze-thaw').length).toBeGreaterThan(0);
    } finally {
      agents.get(vm.id)?.close();
      agents.delete(vm.id);
      await fake.close();
    }
    expect(engine.runtime(vm.id).state).toBe('running');
    expect(await writeRandom(sh)).not.toBe(before);
    sh.close();
    await revertSnapshot(engine, vm.id, snap.id);
    expect(engine.runtime(vm.id).state).toBe('running'); // restarted from the restored disks
    sh = await shell(engine, vm.id);
    expect(await diskChecksum(sh)).toBe(before);
    sh.close();
    await engine.stop(vm.id, { force: true });
  });

  it('deletes a middle snapshot and keeps its child revertible', async () => {
    const vm = await makeGuestVm(engine, 'snap-tree');
    await engine.start(vm.id);
    const sh = await shell(engine, vm.id);
    await writeRandom(sh);
    await createSnapshot(engine, vm.id, 'a');
    await writeRandom(sh);
    const mid = await createSnapshot(engine, vm.id, 'b');
    const atC = await writeRandom(sh);
    const c = await createSnapshot(engine, vm.id, 'c');
    await writeRandom(sh);
    expect(c.parent).toBe(mid.id);
    expect(existsSync(join(engine.paths(vm.id).vmDir, `snapshot-${mid.id}.png`))).toBe(true);
    await deleteSnapshot(engine, vm.id, 'b');
    // Its picture goes with it.
    expect(existsSync(join(engine.paths(vm.id).vmDir, `snapshot-${mid.id}.png`))).toBe(false);
    const list = await listSnapshots(engine, vm.id);
    expect(list.map((s) => s.name)).toEqual(['a', 'c']);
    expect(list[1]!.parent).toBe(list[0]!.id);
    await revertSnapshot(engine, vm.id, 'c');
    sh.write('\n');
    expect(await diskChecksum(sh)).toBe(atC);
    sh.close();
    await engine.stop(vm.id, { force: true });
  });

  it('includes the UEFI variable store in snapshots of a UEFI VM', async () => {
    const vm = await makeGuestVm(engine, 'snap-uefi', {
      firmware: 'uefi',
      directBoot: null,
      bootOrder: ['cdrom', 'disk'],
    });
    expect(vm.firmware).toBe('uefi');
    await engine.start(vm.id);
    const sh = await shell(engine, vm.id, 90_000);
    sh.close();
    const snap = await createSnapshot(engine, vm.id, 'uefi');
    const vars = await engine.img.info(engine.paths(vm.id).varsFile, 'qcow2');
    expect(vars.snapshots?.map((s) => s.name)).toContain(snap.tag);
    await engine.stop(vm.id, { force: true });
  });

  it('refuses snapshots of raw disks with the reason', async () => {
    const vm = await makeGuestVm(engine, 'snap-raw', { disk: { kind: 'new', size: '16M', format: 'raw' } });
    await expect(createSnapshot(engine, vm.id, 'x')).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/raw/),
    });
  });
});
