// Disks added and removed while stopped, CD-ROMs changed live, and a disk that another QEMU
// holds open, against real QEMU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/main/engine/engine';
import { addDisk, removeDisk } from '../../src/main/engine/vms/disks';
import { ejectMedia, insertMedia } from '../../src/main/engine/live';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { guest } from '../support/guest';
import { makeGuestVm, shell } from '../support/vms';

const t = tempHome();
let engine: Engine;

beforeAll(async () => {
  engine = await openEngine(t);
});
afterAll(() => closeEngine(engine, t));

interface Block {
  qdev?: string;
  inserted?: { file: string };
}

describe('devices', () => {
  it('adds disks while stopped, which the guest then sees, and removes them', async () => {
    const vm = await makeGuestVm(engine, 'disks');
    const ext = join(t.files, 'extra, "ext".qcow2');
    await engine.img.create(ext, { format: 'qcow2', sizeBytes: 8 << 20 });
    await addDisk(engine, vm.id, { kind: 'new', size: '32M', format: 'qcow2', preallocation: 'off' });
    const withExt = await addDisk(engine, vm.id, {
      kind: 'existing',
      path: ext,
      copy: false,
      blockDevice: false,
    });
    expect(withExt.disks.map((d) => [d.id, d.owned])).toEqual([
      ['disk0', true],
      ['disk1', true],
      ['disk2', false],
    ]);
    await engine.start(vm.id);
    await expect(
      addDisk(engine, vm.id, { kind: 'new', size: '8M', format: 'qcow2', preallocation: 'off' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    const sh = await shell(engine, vm.id);
    const sizes = await sh.run('cat /sys/block/vdb/size /sys/block/vdc/size');
    expect(sizes.output.split('\n')).toEqual([String((32 << 20) / 512), String((8 << 20) / 512)]);
    sh.close();
    await engine.stop(vm.id, { force: true });
    await expect(removeDisk(engine, vm.id, 'disk2', true)).rejects.toThrow(
      /never deletes files a VM does not own/,
    );
    await removeDisk(engine, vm.id, 'disk2', false);
    expect(existsSync(ext)).toBe(true);
    const r = await removeDisk(engine, vm.id, 'disk1', true);
    expect(r.deleted && existsSync(r.deleted)).toBe(false);
    expect(r.config.disks.map((d) => d.id)).toEqual(['disk0']);
  });

  it('changes and ejects the CD-ROM of a running VM', async () => {
    const other = join(t.files, 'other disc.iso');
    copyFileSync(guest().iso, other);
    const vm = await makeGuestVm(engine, 'media');
    await engine.start(vm.id);
    await insertMedia(engine, vm.id, other);
    const blocks = await engine.qmp(vm.id).execute<Block[]>('query-block');
    expect(blocks.find((b) => b.qdev === 'cd0')?.inserted?.file).toBe(other);
    expect(engine.resolve(vm.id).cdroms[0]!.media).toBe(other);
    await ejectMedia(engine, vm.id);
    const after = await engine.qmp(vm.id).execute<Block[]>('query-block');
    expect(after.find((b) => b.qdev === 'cd0')?.inserted).toBeUndefined();
    expect(engine.resolve(vm.id).cdroms[0]!.media).toBeNull();
    await expect(insertMedia(engine, vm.id, join(t.files, 'missing.iso'))).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await engine.stop(vm.id, { force: true });
  });

  it('refuses to start a VM whose disk another running QEMU holds, and says so', async () => {
    const shared = join(t.files, 'shared.qcow2');
    await engine.img.create(shared, { format: 'qcow2', sizeBytes: 16 << 20 });
    const a = await makeGuestVm(engine, 'lock-a', { disk: { kind: 'existing', path: shared } });
    const b = await makeGuestVm(engine, 'lock-b', { disk: { kind: 'existing', path: shared } });
    await engine.start(a.id);
    await expect(engine.start(b.id)).rejects.toMatchObject({
      code: 'QEMU_FAILED',
      message: expect.stringMatching(/already open in another QEMU/),
    });
    expect(engine.runtime(b.id).state).toBe('stopped');
    await engine.stop(a.id, { force: true });
  });
});
