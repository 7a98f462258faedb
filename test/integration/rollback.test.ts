// Rollback against real QEMU: baselines and instant reset, disposable runs, templates and
// linked clones. Guest data is compared by checksums read in the guest; files that must not
// change are compared by checksums on the host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/main/engine/engine';
import { clearBaseline, resetToBaseline, setBaseline } from '../../src/main/engine/rollback/baseline';
import { linkedClone, makeIndependent, setTemplate } from '../../src/main/engine/rollback/templates';
import { createSnapshot, editSnapshot } from '../../src/main/engine/snapshots';
import { cloneVm, deleteVm } from '../../src/main/engine/vms/manage';
import type { SerialConsole } from '../../src/main/engine/consoles/serial';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, shell } from '../support/vms';

const t = tempHome();
let engine: Engine;

beforeAll(async () => {
  engine = await openEngine(t);
});
afterAll(() => closeEngine(engine, t));

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function write(sh: SerialConsole, tag: string): Promise<string> {
  const r = await sh.run(
    `echo ${tag} > /mnt/disk/state; dd if=/dev/urandom of=/mnt/disk/blob bs=64k count=4 2>/dev/null; sync; md5sum /mnt/disk/blob`,
  );
  expect(r.status).toBe(0);
  return r.output.split(' ')[0]!;
}

async function read(sh: SerialConsole): Promise<string> {
  const r = await sh.run('echo 3 > /proc/sys/vm/drop_caches; cat /mnt/disk/state; md5sum /mnt/disk/blob');
  return r.output;
}

async function boot(id: string): Promise<SerialConsole> {
  await engine.start(id);
  return shell(engine, id);
}

describe('rollback', () => {
  it('resets to a baseline, also from a running VM, without touching the base', async () => {
    const vm = await makeGuestVm(engine, 'baseline');
    let sh = await boot(vm.id);
    const a = await write(sh, 'A');
    sh.close();
    await engine.stop(vm.id, { timeoutMs: 30_000 });
    const withBase = await setBaseline(engine, vm.id);
    const base = join(engine.paths(vm.id).vmDir, withBase.baseline!.bases['disk0.qcow2']!);
    const baseSum = sha(base);
    sh = await boot(vm.id);
    expect(await read(sh)).toContain(a);
    await write(sh, 'B');
    await createSnapshot(engine, vm.id, 'on top');
    sh.close();
    const r = await resetToBaseline(engine, vm.id);
    console.log(`reset-to-baseline of a running VM (stop, reset, start): ${r.ms} ms`);
    expect(r.config.snapshots).toEqual([]); // snapshots since the baseline went with it
    expect(engine.runtime(vm.id).state).toBe('running');
    sh = await shell(engine, vm.id);
    const back = await read(sh);
    expect(back).toMatch(/^A$/m);
    expect(back).toContain(a);
    sh.close();
    await engine.stop(vm.id, { force: true });
    expect(sha(base)).toBe(baseSum);
    await clearBaseline(engine, vm.id);
    expect(existsSync(base)).toBe(false);
    expect(
      (await engine.img.info(join(engine.paths(vm.id).vmDir, 'disk0.qcow2'), 'qcow2'))['backing-filename'],
    ).toBeUndefined();
    sh = await boot(vm.id);
    expect(await read(sh)).toContain(a); // the current state survived clearing the baseline
    sh.close();
    await engine.stop(vm.id, { force: true });
  });

  it('throws away every write of a disposable run and leaves the disk byte-identical', async () => {
    const vm = await makeGuestVm(engine, 'disposable');
    let sh = await boot(vm.id);
    const a = await write(sh, 'kept');
    sh.close();
    await engine.stop(vm.id, { timeoutMs: 30_000 });
    const disk = join(engine.paths(vm.id).vmDir, 'disk0.qcow2');
    const before = sha(disk);
    const s = await engine.start(vm.id, { disposable: true });
    expect(s.disposable).toBe(true);
    sh = await shell(engine, vm.id);
    expect(await read(sh)).toContain(a);
    await write(sh, 'thrown away');
    await expect(createSnapshot(engine, vm.id, 'x')).rejects.toThrow(/disposable/);
    sh.close();
    await engine.stop(vm.id, { timeoutMs: 30_000 });
    expect(sha(disk)).toBe(before);
    expect(existsSync(join(engine.paths(vm.id).vmDir, 'disposable'))).toBe(false);
    sh = await boot(vm.id);
    expect(await read(sh)).toMatch(/^kept$/m);
    sh.close();
    await engine.stop(vm.id, { force: true });
  });

  it('makes linked clones of a template that boot and write without changing it', async () => {
    const vm = await makeGuestVm(engine, 'golden');
    const sh0 = await boot(vm.id);
    const a = await write(sh0, 'golden');
    sh0.close();
    await engine.stop(vm.id, { timeoutMs: 30_000 });
    await setTemplate(engine, vm.id, true);
    await expect(engine.start(vm.id)).rejects.toThrow(/template/);
    const tplDisk = join(engine.paths(vm.id).vmDir, 'disk0.qcow2');
    const tplSum = sha(tplDisk);
    const started = performance.now();
    const clone = await linkedClone(engine, vm.id, 'clone one');
    console.log(`linked clone made in ${Math.round(performance.now() - started)} ms`);
    // The list says which is the template and which its clone (cards need no config request).
    const cards = new Map(engine.list().map((v) => [v.id, v]));
    expect(cards.get(vm.id)).toMatchObject({ template: true, linkedTo: null });
    expect(cards.get(clone.id)).toMatchObject({ template: false, linkedTo: vm.id, baseline: false });
    const cloneDisk = join(engine.paths(clone.id).vmDir, 'disk0.qcow2');
    const info = await engine.img.info(cloneDisk, 'qcow2');
    expect(info['full-backing-filename']).toBe(tplDisk);
    expect(info['actual-size']!).toBeLessThan(1 << 20);
    const sh = await boot(clone.id);
    expect(await read(sh)).toContain(a);
    await write(sh, 'clone data');
    sh.close();
    await engine.stop(clone.id, { timeoutMs: 30_000 });
    expect(sha(tplDisk)).toBe(tplSum);
    await expect(deleteVm(engine, vm.id)).rejects.toThrow(/clone one/);
    await expect(setTemplate(engine, vm.id, false)).rejects.toThrow(/clone one/);
    await makeIndependent(engine, clone.id);
    expect((await engine.img.info(cloneDisk, 'qcow2'))['backing-filename']).toBeUndefined();
    const sh2 = await boot(clone.id);
    expect(await read(sh2)).toMatch(/^clone data$/m);
    sh2.close();
    await engine.stop(clone.id, { force: true });
    await deleteVm(engine, vm.id); // no clone depends on it any more
    expect(existsSync(tplDisk)).toBe(false);
  });

  it('undoes or finishes a baseline set that was killed midway, at the next open', async () => {
    const early = await makeGuestVm(engine, 'killed early');
    const late = await makeGuestVm(engine, 'killed late');
    const dir = (id: string) => engine.paths(id).vmDir;
    // Killed after the link, before the overlay: the base name is a second link to the image.
    linkSync(join(dir(early.id), 'disk0.qcow2'), join(dir(early.id), 'disk0.base.qcow2'));
    // Killed after the overlay was renamed into place, before vm.json recorded the baseline.
    const lateDisk = join(dir(late.id), 'disk0.qcow2');
    const lateBase = join(dir(late.id), 'disk0.base.qcow2');
    linkSync(lateDisk, lateBase);
    await engine.img.create(`${lateDisk}.new`, {
      format: 'qcow2',
      sizeBytes: 0,
      backing: { path: lateBase, format: 'qcow2' },
    });
    renameSync(`${lateDisk}.new`, lateDisk);
    await engine.close();
    engine = await openEngine(t);
    expect(existsSync(join(dir(early.id), 'disk0.base.qcow2'))).toBe(false);
    expect(engine.resolve(early.id).baseline).toBeNull();
    expect(engine.resolve(late.id).baseline?.bases).toEqual({ 'disk0.qcow2': 'disk0.base.qcow2' });
    await resetToBaseline(engine, late.id);
    for (const id of [early.id, late.id]) {
      const sh = await boot(id);
      expect((await sh.run('ls /mnt/disk >/dev/null && echo disk-ok')).output).toBe('disk-ok');
      sh.close();
      await engine.stop(id, { force: true });
    }
  });

  it('makes full clones of a baseline VM and of a linked clone that stand on their own', async () => {
    const vm = await makeGuestVm(engine, 'with baseline');
    const sh = await boot(vm.id);
    const a = await write(sh, 'based');
    sh.close();
    await engine.stop(vm.id, { timeoutMs: 30_000 });
    await setBaseline(engine, vm.id);
    const full = await cloneVm(engine, vm.id, 'full of baseline');
    expect(full).toMatchObject({ baseline: null, linkedTo: null, template: false, snapshots: [] });
    const disk = join(engine.paths(full.id).vmDir, 'disk0.qcow2');
    expect((await engine.img.info(disk, 'qcow2'))['backing-filename']).toBeUndefined();
    const sh2 = await boot(full.id);
    expect(await read(sh2)).toContain(a);
    sh2.close();
    await engine.stop(full.id, { force: true });

    const tpl = await makeGuestVm(engine, 'tpl for full clone');
    await setTemplate(engine, tpl.id, true);
    const linked = await linkedClone(engine, tpl.id, 'linked');
    const fromLinked = await cloneVm(engine, linked.id, 'full of linked');
    expect(fromLinked.linkedTo).toBeNull();
    const fromTemplate = await cloneVm(engine, tpl.id, 'full of template');
    expect(fromTemplate.template).toBe(false);
    await expect(engine.start(fromTemplate.id)).resolves.toMatchObject({ state: 'running' });
    await engine.stop(fromTemplate.id, { force: true });
  });

  it('renames and describes snapshots', async () => {
    const vm = await makeGuestVm(engine, 'names');
    const s = await createSnapshot(engine, vm.id, 'first');
    const e = await editSnapshot(engine, vm.id, s.id, {
      name: 'renamed, "ü"',
      description: 'why it matters',
    });
    expect(e).toMatchObject({ name: 'renamed, "ü"', description: 'why it matters', tag: s.tag });
    expect(engine.resolve(vm.id).snapshots[0]).toMatchObject({ name: 'renamed, "ü"' });
  });
});
