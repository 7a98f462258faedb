// Reverts and resets are all or nothing: a snapshot brings back the hardware it was taken with,
// and a revert or reset that fails halfway leaves every disk, the settings and the state as
// they were. Disk contents are compared on the host, byte for byte.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import { createSnapshot, deleteSnapshot, listSnapshots } from '../../src/main/engine/snapshots';
import { revertSnapshot } from '../../src/main/engine/snapshot-revert';
import { editVm } from '../../src/main/engine/vms/manage';
import { addDisk } from '../../src/main/engine/vms/disks';
import { resetToBaseline, setBaseline } from '../../src/main/engine/rollback/baseline';
import { SerialConsole } from '../../src/main/engine/consoles/serial';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, shell } from '../support/vms';

const t = tempHome();
let engine: Engine;

beforeAll(async () => {
  engine = await openEngine(t);
});
afterAll(() => closeEngine(engine, t));

/** The guest-visible content of an image, as a digest (qcow2 read through qemu-img). */
function content(path: string): string {
  const raw = `${path}.check.raw`;
  execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', path, raw]);
  try {
    return createHash('sha256').update(readFileSync(raw)).digest('hex');
  } finally {
    rmSync(raw, { force: true });
  }
}

/** Writes a pattern into a stopped VM's image, as a guest would. */
function scribble(path: string, pattern: number): void {
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', `write -P ${pattern} 0 1M`, path], { stdio: 'ignore' });
}

function tagsOf(path: string): string[] {
  const info = JSON.parse(
    execFileSync('qemu-img', ['info', '-U', '-f', 'qcow2', '--output=json', path], { encoding: 'utf8' }),
  ) as { snapshots?: { name: string }[] };
  return (info.snapshots ?? []).map((s) => s.name);
}

async function diskSum(sh: SerialConsole): Promise<string> {
  const r = await sh.run('sync; echo 3 > /proc/sys/vm/drop_caches; md5sum /mnt/disk/data');
  expect(r.status).toBe(0);
  return r.output.split(' ')[0]!;
}

async function writeRandom(sh: SerialConsole): Promise<string> {
  const r = await sh.run('dd if=/dev/urandom of=/mnt/disk/data bs=64k count=8 2>/dev/null && sync');
  expect(r.status).toBe(0);
  return diskSum(sh);
}

async function twoDiskVm(name: string) {
  const vm = await makeGuestVm(engine, name);
  await addDisk(engine, vm.id, { kind: 'new', size: '16M', format: 'qcow2', preallocation: 'off' });
  const dir = engine.paths(vm.id).vmDir;
  return { vm, disks: [join(dir, 'disk0.qcow2'), join(dir, 'disk1.qcow2')] };
}

describe('reverting to a snapshot with RAM after the hardware changed', () => {
  it('brings the snapshot’s memory size back and restores the disk, where it used to fail and lose data', async () => {
    const vm = await makeGuestVm(engine, 'revert-hw');
    await engine.start(vm.id);
    let sh = await shell(engine, vm.id);
    const atSnapshot = await writeRandom(sh);
    const snap = await createSnapshot(engine, vm.id, 'with ram');
    expect(snap.hardware?.memoryMiB).toBe(256);
    expect(await writeRandom(sh)).not.toBe(atSnapshot);
    sh.close();
    await engine.stop(vm.id, { force: true });
    await editVm(engine, vm.id, { memoryMiB: 320, cpus: 2 });
    await engine.start(vm.id);
    await revertSnapshot(engine, vm.id, snap.id);
    expect(engine.runtime(vm.id).state).toBe('running');
    const after = engine.store.load(vm.id);
    expect(after).toMatchObject({ memoryMiB: 256, cpus: 1, currentSnapshot: snap.id });
    // The restored guest sits at its prompt already: a new connection to its serial console.
    sh = new SerialConsole(engine.paths(vm.id).serialSocket);
    await sh.connect();
    sh.write('\n');
    expect(await diskSum(sh)).toBe(atSnapshot);
    sh.close();
    // No undo tag is left in the images.
    expect(tagsOf(join(engine.paths(vm.id).vmDir, 'disk0.qcow2'))).toEqual([snap.tag]);
    await engine.stop(vm.id, { force: true });
  });

  it('leaves the disks, settings and tags exactly as they were when the RAM state cannot be loaded', async () => {
    const vm = await makeGuestVm(engine, 'revert-fail');
    await engine.start(vm.id);
    const sh = await shell(engine, vm.id);
    await writeRandom(sh);
    const snap = await createSnapshot(engine, vm.id, 'old');
    await writeRandom(sh);
    sh.close();
    await engine.stop(vm.id, { force: true });
    // A snapshot taken before Hangar recorded hardware, on a VM whose memory changed since:
    // QEMU refuses to load its RAM state ("Error -22 while loading VM state").
    const legacy = engine.store.load(vm.id);
    engine.store.save({
      ...legacy,
      memoryMiB: 320,
      snapshots: legacy.snapshots.map(({ hardware: _hw, ...s }) => s),
    });
    const disk = join(engine.paths(vm.id).vmDir, 'disk0.qcow2');
    const before = content(disk);
    const configBefore = engine.store.load(vm.id);
    await expect(revertSnapshot(engine, vm.id, snap.id)).rejects.toMatchObject({
      message: expect.stringMatching(/disks and settings are as they were/),
    });
    expect(content(disk)).toBe(before);
    expect(engine.store.load(vm.id)).toEqual(configBefore);
    expect(engine.runtime(vm.id).state).toBe('stopped');
    expect(tagsOf(disk)).toEqual([snap.tag]);
    expect((await listSnapshots(engine, vm.id)).map((s) => s.tag)).toEqual([snap.tag]);
  });

  it('stops the VM again when a RAM snapshot of a stopped VM is missing from its disk', async () => {
    // A stopped VM is started paused before the checks (they then go through QMP): a failed
    // check must leave it stopped, with nothing changed.
    const vm = await makeGuestVm(engine, 'revert-gone');
    await engine.start(vm.id);
    await shell(engine, vm.id).then((sh) => sh.close());
    const snap = await createSnapshot(engine, vm.id, 'with ram', '', { ram: true });
    await engine.stop(vm.id, { force: true });
    const disk = join(engine.paths(vm.id).vmDir, 'disk0.qcow2');
    execFileSync('qemu-img', ['snapshot', '-d', snap.tag, disk]);
    const before = content(disk);
    await expect(revertSnapshot(engine, vm.id, snap.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/missing from .*Nothing was changed/),
    });
    expect(engine.runtime(vm.id).state).toBe('stopped');
    expect(content(disk)).toBe(before);
    expect(tagsOf(disk)).toEqual([]);
  });

  it('refuses, before touching anything, a snapshot whose disks were added or removed since', async () => {
    const vm = await makeGuestVm(engine, 'revert-disks');
    const snap = await createSnapshot(engine, vm.id, 'one disk');
    await addDisk(engine, vm.id, { kind: 'new', size: '16M', format: 'qcow2', preallocation: 'off' });
    const disk = join(engine.paths(vm.id).vmDir, 'disk0.qcow2');
    const before = content(disk);
    await expect(revertSnapshot(engine, vm.id, snap.id)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/added since: disk1.*Nothing was changed/),
    });
    expect(content(disk)).toBe(before);
    expect(engine.store.load(vm.id).disks).toHaveLength(2);
  });
});

describe('multi-disk operations are all or nothing', () => {
  it('a disk-only revert that fails at the second disk leaves both disks at the same point', async () => {
    const { vm, disks } = await twoDiskVm('revert-2disks');
    scribble(disks[0]!, 0x11);
    scribble(disks[1]!, 0x11);
    const snap = await createSnapshot(engine, vm.id, 'both');
    scribble(disks[0]!, 0x22);
    scribble(disks[1]!, 0x22);
    const before = disks.map(content);
    engine.failpoints.set('revert:apply', (n) => {
      if (n === 1) throw new Error('injected failure at the second disk');
    });
    try {
      await expect(revertSnapshot(engine, vm.id, snap.id)).rejects.toThrow(/injected failure/);
    } finally {
      engine.failpoints.delete('revert:apply');
    }
    expect(disks.map(content)).toEqual(before);
    for (const d of disks) expect(tagsOf(d)).toEqual([snap.tag]);
    // And without the fault the same revert goes through on both.
    await revertSnapshot(engine, vm.id, snap.id);
    const reverted = disks.map(content);
    expect(reverted[0]).not.toBe(before[0]);
    expect(reverted[1]).not.toBe(before[1]);
  });

  it('a reset to baseline that fails at the second disk leaves both disks as they were', async () => {
    const { vm, disks } = await twoDiskVm('reset-2disks');
    await setBaseline(engine, vm.id);
    scribble(disks[0]!, 0x33);
    scribble(disks[1]!, 0x33);
    const before = disks.map(content);
    engine.failpoints.set('reset:prepare', (n) => {
      if (n === 1) throw new Error('injected failure at the second disk');
    });
    try {
      await expect(resetToBaseline(engine, vm.id)).rejects.toThrow(/injected failure/);
    } finally {
      engine.failpoints.delete('reset:prepare');
    }
    expect(disks.map(content)).toEqual(before);
    const dir = engine.paths(vm.id).vmDir;
    expect(readdirSync(dir).filter((f) => f.endsWith('.new'))).toEqual([]);
    await resetToBaseline(engine, vm.id);
    expect(disks.map(content)).not.toEqual(before);
    expect(existsSync(disks[1]!)).toBe(true);
  });
});

describe('snapshot metadata under concurrent operations', () => {
  it('never loses a snapshot taken while another one is being deleted', async () => {
    const vm = await makeGuestVm(engine, 'snap-race');
    const disk = join(engine.paths(vm.id).vmDir, 'disk0.qcow2');
    // A tag only the image knows (made by qemu-img), which is found by listing the images first.
    execFileSync('qemu-img', ['snapshot', '-c', 'outside', disk]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let found!: () => void;
    const reached = new Promise<void>((r) => (found = r));
    engine.failpoints.set('snapshot-delete:found', async () => {
      found();
      await held;
    });
    try {
      const deleting = deleteSnapshot(engine, vm.id, 'outside');
      await reached;
      // Before the fix the delete read vm.json before waiting on the images, so a snapshot taken
      // meanwhile was dropped from it; now the VM is held until the delete is recorded.
      await expect(createSnapshot(engine, vm.id, 'meanwhile')).rejects.toMatchObject({ code: 'BUSY' });
      release();
      await deleting;
    } finally {
      engine.failpoints.delete('snapshot-delete:found');
      release();
    }
    const made = await createSnapshot(engine, vm.id, 'after');
    expect(engine.store.load(vm.id).snapshots.map((s) => s.id)).toEqual([made.id]);
    expect(tagsOf(disk)).toEqual([made.tag]);
  });
});
