// Disk operations that respect what is built on a disk: a template's disk under linked clones
// is never resized or converted; a running VM's disk grows live; raw disks convert to qcow2.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Engine } from '../../src/main/engine/engine';
import { convertDisk, resizeDisk } from '../../src/main/engine/vms/disk-ops';
import { linkedClone, setTemplate } from '../../src/main/engine/rollback/templates';
import { createSnapshot } from '../../src/main/engine/snapshots';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, shell } from '../support/vms';
import { hangar, requireBuild } from '../support/cli';

const t = tempHome();
let engine: Engine;

beforeAll(async () => {
  engine = await openEngine(t);
});
afterAll(() => closeEngine(engine, t));

describe('disk operations', () => {
  it('refuses to resize or convert a template disk that linked clones use', async () => {
    const tpl = await makeGuestVm(engine, 'tpl');
    await setTemplate(engine, tpl.id, true);
    await linkedClone(engine, tpl.id, 'child');
    await expect(resizeDisk(engine, tpl.id, 'disk0', '128M')).rejects.toThrow(/"child"/);
    await expect(convertDisk(engine, tpl.id, 'disk0', 'raw')).rejects.toThrow(/"child"/);
  });

  it('grows a running VM\u2019s disk live, and refuses to shrink it while running', async () => {
    const vm = await makeGuestVm(engine, 'grow');
    await engine.start(vm.id);
    const sh = await shell(engine, vm.id);
    expect((await sh.run('cat /sys/block/vda/size')).output).toBe(String((64 << 20) / 512));
    await resizeDisk(engine, vm.id, 'disk0', '96M');
    expect((await sh.run('sleep 1; cat /sys/block/vda/size')).output).toBe(String((96 << 20) / 512));
    await expect(resizeDisk(engine, vm.id, 'disk0', '32M', true)).rejects.toThrow(/only grow/);
    sh.close();
    await engine.stop(vm.id, { force: true });
  });

  it('converts a raw disk to qcow2, after which snapshots work', async () => {
    const vm = await makeGuestVm(engine, 'raw', { disk: { kind: 'new', size: '16M', format: 'raw' } });
    await expect(createSnapshot(engine, vm.id, 'x')).rejects.toThrow(/disk convert/);
    const c = await convertDisk(engine, vm.id, 'disk0', 'qcow2');
    expect(c.disks[0]).toMatchObject({ format: 'qcow2', file: 'disk0.qcow2' });
    expect(
      (await engine.img.info(join(engine.paths(vm.id).vmDir, 'disk0.qcow2'), 'qcow2'))['virtual-size'],
    ).toBe(16 << 20);
    expect((await createSnapshot(engine, vm.id, 'now possible')).vmState).toBe(false);
  });

  it('sends resizes of a VM\u2019s files through the engine from the CLI', async () => {
    requireBuild();
    const vm = await makeGuestVm(engine, 'cli-resize');
    const file = join(engine.paths(vm.id).vmDir, 'disk0.qcow2');
    const r = await hangar(t.env, ['disk', 'resize', file, '128M']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/use hangar disk resize "cli-resize" disk0 SIZE/);
  });
});
