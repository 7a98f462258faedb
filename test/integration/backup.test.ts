// Backups against real QEMU: a live full while the guest writes, an incremental holding only the
// changes, a restore compared byte for byte with the source at that point, verify naming a
// corrupted file, a killed backup that leaves nothing listed, and an offline backup whose chain
// a live incremental continues. One guest is booted and reused.
import { createHash } from 'node:crypto';
import {
  writeFileSync,
  mkdirSync,
  symlinkSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
  closeSync,
  existsSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import type { SerialConsole } from '../../src/main/engine/consoles/serial';
import { diskPath } from '../../src/main/engine/qemu/argv';
import {
  createBackup,
  dropChainBitmaps,
  listBackupsOf,
  pruneBackups,
  restoreBackup,
  verifyBackup,
} from '../../src/main/engine/backup';
import { createSnapshot } from '../../src/main/engine/snapshots';
import { revertSnapshot } from '../../src/main/engine/snapshot-revert';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, shell, waitState } from '../support/vms';
import { FakeAgent } from '../../src/main/engine/agent/fake-agent';
import { GuestAgent } from '../../src/main/engine/agent';

// The UEFI case below answers as the guest agent itself (FakeAgent) in a guest that has none, so
// QEMU's own word that nothing opened the agent's port is overruled here.
vi.mock('../../src/main/engine/agent/listening', () => ({ agentPortOpen: () => Promise.resolve(true) }));

const t = tempHome('hangar-bk-');
let engine: Engine;
let vmId: string;
let sh: SerialConsole;

beforeAll(async () => {
  engine = await openEngine(t);
  const vm = await makeGuestVm(engine, 'bk-src', { disk: { kind: 'new', size: '128M' } });
  vmId = vm.id;
  await engine.start(vmId);
  sh = await shell(engine, vmId);
});
afterAll(async () => {
  sh?.close();
  await closeEngine(engine, t);
});

async function guest(command: string): Promise<string> {
  const r = await sh.run(command, 60_000);
  expect(r.status, `${command}: ${r.output}`).toBe(0);
  return r.output;
}

async function boot(): Promise<void> {
  sh?.close();
  await engine.start(vmId);
  sh = await shell(engine, vmId);
}

function sourceDisk(): string {
  const c = engine.resolve(vmId);
  return diskPath(c, c.disks[0]!, engine.paths(vmId).vmDir);
}

async function rawSha(path: string): Promise<string> {
  const out = join(t.files, `raw-${createHash('md5').update(path).digest('hex')}.img`);
  await engine.img.run(['convert', '-f', 'qcow2', '-O', 'raw', path, out]);
  return createHash('sha256').update(readFileSync(out)).digest('hex');
}

function flipByte(file: string, offset: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, offset);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, offset);
  closeSync(fd);
}

describe('backups', () => {
  let full: Awaited<ReturnType<typeof createBackup>>;
  let inc: Awaited<ReturnType<typeof createBackup>>;

  it('takes a live full backup while the guest writes, without pausing it', async () => {
    await guest('dd if=/dev/urandom of=/mnt/disk/a bs=64k count=128 2>/dev/null && sync');
    await guest(
      '(while true; do dd if=/dev/urandom of=/mnt/disk/w bs=64k count=16 conv=fsync 2>/dev/null; done) & echo $! > /tmp/wpid',
    );
    const states: string[] = [];
    const onState = (s: { id: string; state: string }) => s.id === vmId && states.push(s.state);
    engine.on('state', onState);
    full = await createBackup(engine, vmId);
    engine.off('state', onState);
    expect(states).toEqual([]);
    expect(engine.runtime(vmId).state).toBe('running');
    expect(full).toMatchObject({ kind: 'full', live: true, parent: null, consistency: 'crash-consistent' });
    expect(full.fullReason).toMatch(/first backup/);
    // The writer was still running after the backup: the guest was never stopped.
    await guest('kill -0 $(cat /tmp/wpid)');
    await guest('kill $(cat /tmp/wpid); sync');
    const list = listBackupsOf(engine, { vm: 'bk-src' });
    expect(list.backups.map((b) => b.id)).toEqual([full.id]);
    const manifest = JSON.parse(readFileSync(join(full.dir, 'manifest.json'), 'utf8')) as {
      files: { name: string; sha256: string }[];
      chainId: string;
      hangarVersion: string;
    };
    expect(manifest.files.map((f) => f.name)).toEqual(['disk0.qcow2', 'vm.json']);
    expect(manifest.hangarVersion).toMatch(/^\d+\.\d+/);
    const info = await engine.img.info(join(full.dir, 'disk0.qcow2'), 'qcow2');
    expect(JSON.stringify(info)).toContain('zstd');
    expect((await verifyBackup(engine, full.id, { mode: 'full' })).ok).toBe(true);
  });

  it('takes incrementals, one while the guest writes, and restores the last byte for byte', async () => {
    // Writes during this copy land in the fresh bitmap and must reach the next point.
    await guest(
      '(while true; do dd if=/dev/urandom of=/mnt/disk/w bs=64k count=16 conv=fsync 2>/dev/null; done) & echo $! > /tmp/wpid',
    );
    const during = await createBackup(engine, vmId);
    expect(during).toMatchObject({ kind: 'incremental', parent: full.id });
    await guest('kill $(cat /tmp/wpid); sync');
    await guest('dd if=/dev/urandom of=/mnt/disk/b bs=64k count=16 2>/dev/null && sync');
    // Paused, the source stays at the backup's point in time until it is compared.
    await engine.pause(vmId);
    inc = await createBackup(engine, vmId);
    expect(inc).toMatchObject({
      kind: 'incremental',
      parent: during.id,
      chainId: full.chainId,
      fullReason: null,
    });
    expect(inc.size * 3).toBeLessThan(full.size);
    const info = await engine.img.info(join(inc.dir, 'disk0.qcow2'), 'qcow2');
    expect(info['backing-filename']).toBe(`../${during.id}/disk0.qcow2`);
    expect(info['backing-filename-format']).toBe('qcow2');
    // quit closes the images cleanly; nothing ran in the guest since the backup.
    sh.close();
    await engine.stop(vmId, { force: true });
    const restored = await restoreBackup(engine, inc.id, 'bk-restored');
    const src = engine.resolve(vmId);
    expect(restored.name).toBe('bk-restored');
    expect(restored.id).not.toBe(vmId);
    expect(restored.nics[0]!.mac).not.toBe(src.nics[0]!.mac);
    const copy = join(engine.paths(restored.id).vmDir, 'disk0.qcow2');
    expect(
      await engine.img.compare({ path: sourceDisk(), format: 'qcow2' }, { path: copy, format: 'qcow2' }),
    ).toBe(true);
    expect(await rawSha(copy)).toBe(await rawSha(sourceDisk()));
    expect((await engine.img.info(copy, 'qcow2'))['backing-filename']).toBeUndefined();
  });

  it('continues the chain after a clean restart (the bitmap is persistent)', async () => {
    await boot();
    await guest('dd if=/dev/urandom of=/mnt/disk/c bs=64k count=8 2>/dev/null && sync');
    const next = await createBackup(engine, vmId);
    expect(next).toMatchObject({ kind: 'incremental', parent: inc.id, chainId: full.chainId });
    const v = await verifyBackup(engine, next.id, { mode: 'full' });
    expect(v).toMatchObject({ ok: true, chain: [full.id, expect.any(String), inc.id, next.id] });
  });

  it('verify quick finds a flipped byte and names the file', async () => {
    const file = join(inc.dir, 'disk0.qcow2');
    const list = listBackupsOf(engine, { vm: vmId }).backups;
    const leaf = list.at(-1)!.id;
    flipByte(file, 200_000);
    try {
      const v = await verifyBackup(engine, leaf);
      expect(v.ok).toBe(false);
      expect(v.problems).toEqual([{ backup: inc.id, file, problem: expect.stringMatching(/SHA-256/) }]);
      await expect(restoreBackup(engine, leaf, 'bk-bad')).rejects.toThrow(/disk0\.qcow2/);
    } finally {
      flipByte(file, 200_000);
    }
    expect((await verifyBackup(engine, leaf)).ok).toBe(true);
  });

  it('a backup that fails midway leaves nothing listed, and the chain goes on', async () => {
    const before = listBackupsOf(engine, { vm: vmId }).backups.map((b) => b.id);
    engine.failpoints.set('backup:copy', () => {
      throw new Error('injected failure');
    });
    try {
      await expect(createBackup(engine, vmId)).rejects.toThrow(/injected/);
    } finally {
      engine.failpoints.delete('backup:copy');
    }
    expect(listBackupsOf(engine, { vm: vmId }).backups.map((b) => b.id)).toEqual(before);
    expect(readdirSync(join(t.home, 'backups', vmId)).filter((d) => d.startsWith('.'))).toEqual([]);
    await guest('dd if=/dev/urandom of=/mnt/disk/d bs=64k count=4 2>/dev/null && sync');
    const next = await createBackup(engine, vmId);
    expect(next).toMatchObject({ kind: 'incremental', parent: before.at(-1), chainId: full.chainId });
  });

  it('QEMU killed during a backup: nothing listed, leftovers removed, the next one is a full saying why', async () => {
    const before = listBackupsOf(engine, { vm: vmId }).backups.map((b) => b.id);
    const pid = engine.runtime(vmId).pid!;
    engine.failpoints.set('backup:copy', () => {
      process.kill(pid, 'SIGKILL');
    });
    try {
      await expect(createBackup(engine, vmId)).rejects.toMatchObject({
        code: 'QEMU_FAILED',
        message: expect.stringMatching(/ended during the backup/),
      });
    } finally {
      engine.failpoints.delete('backup:copy');
    }
    await waitState(engine, vmId, 'crashed', 20_000);
    expect(listBackupsOf(engine, { vm: vmId }).backups.map((b) => b.id)).toEqual(before);
    // What an engine killed mid-backup would leave: never listed, removed by the next backup.
    const leftover = join(t.home, 'backups', vmId, '.tmp-20260101T000000000Z-abcdef');
    mkdirSync(leftover);
    expect(listBackupsOf(engine, { vm: vmId }).backups.map((b) => b.id)).toEqual(before);
    await boot();
    const next = await createBackup(engine, vmId);
    expect(next.kind).toBe('full');
    expect(next.chainId).not.toBe(full.chainId);
    expect(next.fullReason).toMatch(/inconsistent|missing/);
    expect(next.removedStale).toEqual(['.tmp-20260101T000000000Z-abcdef']);
    expect(existsSync(leftover)).toBe(false);
    expect((await verifyBackup(engine, next.id, { mode: 'full' })).ok).toBe(true);
  });

  it('backs up a stopped VM as an incremental on its chain, and a live incremental continues it', async () => {
    const before = await createBackup(engine, vmId);
    await guest('dd if=/dev/urandom of=/mnt/disk/d bs=64k count=4 2>/dev/null && sync');
    sh.close();
    // quit: QEMU closes the images, which stores the chain's bitmap in them.
    await engine.stop(vmId, { force: true });
    const off = await createBackup(engine, vmId);
    expect(off).toMatchObject({
      kind: 'incremental',
      live: false,
      parent: before.id,
      chainId: before.chainId,
    });
    expect(off.size * 3).toBeLessThan(
      listBackupsOf(engine, { vm: vmId }).backups.find((b) => b.kind === 'full')!.size,
    );
    const restored = await restoreBackup(engine, off.id, 'bk-off-restored');
    expect(
      await engine.img.compare(
        { path: sourceDisk(), format: 'qcow2' },
        { path: join(engine.paths(restored.id).vmDir, 'disk0.qcow2'), format: 'qcow2' },
      ),
    ).toBe(true);
    // The VM still holds this point in time (stopped, nothing written since, by its bitmap): full
    // verify compares the point with it.
    const v = await verifyBackup(engine, off.id, { mode: 'full' });
    expect(v).toMatchObject({ ok: true, source: expect.stringMatching(/unchanged since: identical/) });
    // A byte of the VM's disk changed behind the bitmap's back: the two no longer read the same.
    const map = JSON.parse(await engine.img.run(['map', '--output=json', '-f', 'qcow2', sourceDisk()])) as {
      data: boolean;
      offset?: number;
      length: number;
    }[];
    const at = map.find((e) => e.data && e.offset !== undefined && e.length >= 512)!.offset! + 100;
    flipByte(sourceDisk(), at);
    const bad = await verifyBackup(engine, off.id, { mode: 'full' });
    flipByte(sourceDisk(), at);
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]!.problem).toMatch(/reads differently from disk0 of "bk-src"/);
    await boot();
    await guest('dd if=/dev/urandom of=/mnt/disk/e bs=64k count=4 2>/dev/null && sync');
    const next = await createBackup(engine, vmId);
    expect(next).toMatchObject({ kind: 'incremental', parent: off.id, chainId: off.chainId, live: true });
    expect(await verifyBackup(engine, next.id, { mode: 'full' })).toMatchObject({
      ok: true,
      source: 'not compared with the VM: it runs, so its disks move on',
    });
  });

  it('a snapshot keeps the chain; a revert drops the bitmaps QEMU refuses it with, and the next backup is a full', async () => {
    const snap = await createSnapshot(engine, vmId, 'pre-revert', '', { ram: false });
    await guest('dd if=/dev/urandom of=/mnt/disk/f bs=64k count=4 2>/dev/null && sync');
    const kept = await createBackup(engine, vmId);
    expect(kept.kind).toBe('incremental');
    // The revert drops the chain's bitmaps itself (QEMU will not apply a snapshot to an image
    // with dirty bitmaps: without that this revert failed).
    sh.close();
    await revertSnapshot(engine, vmId, snap.id);
    expect(await engine.withVm(vmId, 'check', (c) => dropChainBitmaps(engine, c))).toEqual([]);
    sh = await shell(engine, vmId);
    const after = await createBackup(engine, vmId);
    expect(after.kind).toBe('full');
    expect(after.fullReason).toMatch(/missing on disk0/);
  });
});

describe('backups of a UEFI VM with a guest agent', () => {
  it('freezes through the agent, keeps UEFI variables in every point, restores them, refuses a forged header', async () => {
    // Started paused: the firmware never runs, so nothing changes the variables or the disk.
    const vm = await makeGuestVm(engine, 'bk-uefi', { firmware: 'uefi' });
    await engine.start(vm.id, { paused: true });
    const fake = await FakeAgent.start();
    fake.handle('guest-fsfreeze-freeze', () => ({ return: 1 }));
    fake.handle('guest-fsfreeze-thaw', () => ({ return: 1 }));
    const agents = (engine as unknown as { agents: Map<string, GuestAgent> }).agents;
    agents.set(vm.id, new GuestAgent(fake.path));
    try {
      const progress: number[] = [];
      const onProgress = (p: { id: string; operation: string; percent: number }) =>
        p.id === vm.id && p.operation === 'backup' && progress.push(p.percent);
      engine.on('progress', onProgress);
      // A repository outside Hangar's data (an external drive, say), reached by a symlink.
      const drive = join(t.files, 'drive');
      mkdirSync(drive);
      symlinkSync(drive, join(t.files, 'drive-link'));
      const repository = join(t.files, 'drive-link');
      const first = await createBackup(engine, vm.id, { repository });
      engine.off('progress', onProgress);
      expect(first.dir.startsWith(drive)).toBe(true);
      expect(first).toMatchObject({ kind: 'full', consistency: 'frozen', live: true });
      expect(fake.received.map((c) => c.execute).filter((c) => c.startsWith('guest-fsfreeze'))).toEqual([
        'guest-fsfreeze-freeze',
        'guest-fsfreeze-thaw',
      ]);
      expect(progress.at(-1)).toBe(100);
      const second = await createBackup(engine, vm.id, { repository });
      expect(second).toMatchObject({ kind: 'incremental', parent: first.id });
      expect(listBackupsOf(engine, { repository, vm: vm.id }).backups.map((b) => b.id)).toEqual([
        first.id,
        second.id,
      ]);
      expect(listBackupsOf(engine, { vm: vm.id }).backups).toEqual([]);
      const names = (
        JSON.parse(readFileSync(join(second.dir, 'manifest.json'), 'utf8')) as { files: { name: string }[] }
      ).files.map((f) => f.name);
      expect(names).toEqual(['disk0.qcow2', 'uefi-vars.qcow2', 'vm.json']);
      expect((await verifyBackup(engine, second.id, { mode: 'full', repository })).ok).toBe(true);
      const restored = await restoreBackup(engine, second.id, 'bk-uefi-restored', { repository });
      expect(restored.firmware).toBe('uefi');
      const vars = join(engine.paths(restored.id).vmDir, 'uefi-vars.qcow2');
      await engine.stop(vm.id, { force: true });
      expect(
        await engine.img.compare(
          { path: engine.paths(vm.id).varsFile, format: 'qcow2' },
          { path: vars, format: 'qcow2' },
        ),
      ).toBe(true);
      // A repository someone else wrote: a header that names another file as its backing, with
      // the manifest's hash made to match, is refused before qemu-img would follow it.
      const disk = join(second.dir, 'disk0.qcow2');
      const manifestFile = join(second.dir, 'manifest.json');
      const original = readFileSync(manifestFile, 'utf8');
      await engine.img.run(['rebase', '-u', '-f', 'qcow2', '-b', sourceDisk(), '-F', 'qcow2', disk]);
      const forged = JSON.parse(original) as { files: { name: string; size: number; sha256: string }[] };
      const bytes = readFileSync(disk);
      forged.files[0] = {
        name: 'disk0.qcow2',
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      };
      writeFileSync(manifestFile, JSON.stringify(forged));
      expect((await verifyBackup(engine, second.id, { repository })).ok).toBe(true);
      const full = await verifyBackup(engine, second.id, { repository, mode: 'full' });
      expect(full.problems).toEqual([
        { backup: second.id, file: disk, problem: expect.stringMatching(/backing file/) },
      ]);
      await expect(restoreBackup(engine, second.id, 'bk-forged', { repository })).rejects.toThrow(
        /backing file/,
      );
      expect(engine.list().map((v) => v.name)).not.toContain('bk-forged');
    } finally {
      agents.get(vm.id)?.close();
      agents.delete(vm.id);
      await fake.close();
      if (!engine.isStopped(vm.id)) await engine.stop(vm.id, { force: true });
    }
  });

  it('prunes to a policy without breaking the chain: the kept point restores as before, an interrupted prune is finished', async () => {
    if (engine.isStopped(vmId)) await boot();
    const repository = join(t.files, 'prune-repo');
    mkdirSync(repository);
    const ids = [(await createBackup(engine, vmId, { repository, full: true })).id];
    for (let i = 0; i < 3; i++) {
      await guest(`dd if=/dev/urandom of=/mnt/disk/p${i} bs=64k count=8 2>/dev/null && sync`);
      ids.push((await createBackup(engine, vmId, { repository })).id);
    }
    const [f, i1, i2, i3] = ids as [string, string, string, string];
    const before = await restoreBackup(engine, i3, 'prune-before', { repository });
    const beforeDisk = join(engine.paths(before.id).vmDir, 'disk0.qcow2');

    const dry = await pruneBackups(engine, vmId, { last: 1 }, { repository, dryRun: true });
    expect(dry).toMatchObject({ removed: [f, i1, i2], kept: [i3], dryRun: true });
    expect(dry.merged).toEqual([
      { point: i2, into: i3 },
      { point: i1, into: i3 },
      { point: f, into: i3 },
    ]);
    expect(listBackupsOf(engine, { repository, vm: vmId }).backups.map((b) => b.id)).toEqual(ids);
    await expect(pruneBackups(engine, vmId, {}, { repository })).rejects.toThrow(/Say what to keep/);

    const unchanged = () =>
      expect(listBackupsOf(engine, { repository, vm: vmId }).backups.map((b) => b.id)).toEqual(ids);
    // A damaged point is never merged (new hashes would bless what it copied in): nothing changes.
    const i1Disk = join(repository, vmId, i1, 'disk0.qcow2');
    flipByte(i1Disk, 70_000);
    await expect(pruneBackups(engine, vmId, { last: 1 }, { repository })).rejects.toThrow(
      new RegExp(`Backup ${i1} is damaged, so nothing was pruned`),
    );
    unchanged();
    flipByte(i1Disk, 70_000);
    // A point whose manifest cannot be read may be built on any other: prune refuses to orphan it.
    const bogus = join(repository, vmId, '20991231T000000000Z-abcdef');
    mkdirSync(bogus);
    writeFileSync(join(bogus, 'manifest.json'), '{');
    await expect(pruneBackups(engine, vmId, { last: 1 }, { repository })).rejects.toThrow(
      /Nothing was pruned: .*20991231T000000000Z-abcdef/,
    );
    rmSync(bogus, { recursive: true });
    // Failing before the journal (a full disk, say): the copies go, nothing else changed.
    engine.failpoints.set('prune:rebased', () => {
      throw new Error('injected failure');
    });
    try {
      await expect(pruneBackups(engine, vmId, { last: 1 }, { repository })).rejects.toThrow(/injected/);
    } finally {
      engine.failpoints.delete('prune:rebased');
    }
    unchanged();
    expect(readdirSync(join(repository, vmId, i3)).filter((f) => f.startsWith('.'))).toEqual([]);

    // Killed between the journal and the renames: nothing visible changed, and the next prune finishes it.
    engine.failpoints.set('prune:journal', () => {
      throw new Error('injected crash');
    });
    try {
      await expect(pruneBackups(engine, vmId, { last: 1 }, { repository })).rejects.toThrow(/injected/);
    } finally {
      engine.failpoints.delete('prune:journal');
    }
    unchanged();
    const done = await pruneBackups(engine, vmId, { last: 1 }, { repository });
    expect(done.removed).toEqual([f, i1]);
    const left = listBackupsOf(engine, { repository, vm: vmId }).backups;
    expect(left.map((b) => [b.id, b.kind, b.parent])).toEqual([[i3, 'full', null]]);
    expect(readdirSync(join(repository, vmId))).toEqual([i3]);
    expect((await verifyBackup(engine, i3, { repository, mode: 'full' })).ok).toBe(true);
    const after = await restoreBackup(engine, i3, 'prune-after', { repository });
    const afterDisk = join(engine.paths(after.id).vmDir, 'disk0.qcow2');
    expect(
      await engine.img.compare({ path: beforeDisk, format: 'qcow2' }, { path: afterDisk, format: 'qcow2' }),
    ).toBe(true);
    // The kept point is still the chain's tail: the next backup is an incremental on it.
    await guest('dd if=/dev/urandom of=/mnt/disk/p9 bs=64k count=2 2>/dev/null && sync');
    expect(await createBackup(engine, vmId, { repository })).toMatchObject({
      kind: 'incremental',
      parent: i3,
    });
  });
});
