// Creating, editing, cloning and deleting VMs, and NAT port forwards, against real QEMU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Engine } from '../../src/main/engine/engine';
import { cloneVm, deleteVm, editVm } from '../../src/main/engine/vms/manage';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { guest } from '../support/guest';
import { makeGuestVm, shell } from '../support/vms';

const t = tempHome();
let engine: Engine;

beforeAll(async () => {
  engine = await openEngine(t);
});
afterAll(() => closeEngine(engine, t));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('VMs', () => {
  it('forwards a host port to the guest, and refuses a host port in use before starting', async () => {
    const port = await freePort();
    const vm = await makeGuestVm(engine, 'web', {
      network: { portForwards: [{ protocol: 'tcp', hostPort: port, guestPort: 80 }] },
    });
    await engine.start(vm.id);
    (await shell(engine, vm.id)).close();
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect((await res.text()).trim()).toBe(guest().manifest.httpBody);
    const other = await makeGuestVm(engine, 'web2', {
      network: { portForwards: [{ protocol: 'tcp', hostPort: port, guestPort: 80 }] },
    });
    await expect(engine.start(other.id)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(`Host port ${port}/tcp is already in use`),
    });
    expect(engine.runtime(other.id).state).toBe('stopped');

    // Forwards change while it runs: one added is served at once, one removed stops answering,
    // and a host port in use is refused with QEMU's reason, leaving the forwards as they were.
    const added = await freePort();
    const fwd = (hostPort: number) => ({
      protocol: 'tcp' as const,
      hostAddress: '127.0.0.1' as const,
      hostPort,
      guestPort: 80,
    });
    await editVm(engine, vm.id, { portForwards: [fwd(added)] });
    expect((await (await fetch(`http://127.0.0.1:${added}/`)).text()).trim()).toBe(guest().manifest.httpBody);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    const busy = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => busy.once('listening', r));
    const busyPort = (busy.address() as { port: number }).port;
    await expect(editVm(engine, vm.id, { portForwards: [fwd(busyPort)] })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`host port ${busyPort}`),
    });
    busy.close();
    expect(engine.store.load(vm.id).nics[0]!.portForwards.map((f) => f.hostPort)).toEqual([added]);
    expect((await (await fetch(`http://127.0.0.1:${added}/`)).text()).trim()).toBe(guest().manifest.httpBody);
    await engine.stop(vm.id, { force: true });
  });

  it('edits a stopped VM with validation, and refuses hardware changes while running', async () => {
    const vm = await makeGuestVm(engine, 'edit me');
    const edited = await editVm(engine, vm.id, { cpus: 2, memoryMiB: 384, name: 'edited, "really"' });
    expect(edited).toMatchObject({ cpus: 2, memoryMiB: 384, name: 'edited, "really"' });
    await expect(editVm(engine, vm.id, { cpus: 0 })).rejects.toThrow(/at least 1 CPU/);
    await expect(editVm(engine, vm.id, { name: 'two\nlines' })).rejects.toThrow(/line break/);
    await engine.start(vm.id);
    await expect(editVm(engine, vm.id, { memoryMiB: 512 })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await editVm(engine, vm.id, { name: 'renamed while running' })).name).toBe(
      'renamed while running',
    );
    expect(engine.resolve('renamed while running').id).toBe(vm.id);
    await engine.stop(vm.id, { force: true });
  });

  it('clones a VM fully: new id and MAC, its own copy of the disk, same data', async () => {
    const vm = await makeGuestVm(engine, 'original');
    await engine.start(vm.id);
    let sh = await shell(engine, vm.id);
    const sum = (await sh.run('echo cloned-data > /mnt/disk/f && sync && md5sum /mnt/disk/f')).output;
    sh.close();
    await engine.stop(vm.id, { timeoutMs: 30_000 });
    const clone = await cloneVm(engine, vm.id, 'the clone');
    expect(clone.id).not.toBe(vm.id);
    expect(clone.nics[0]!.mac).not.toBe(vm.nics[0]!.mac);
    expect(existsSync(join(engine.paths(clone.id).vmDir, 'disk0.qcow2'))).toBe(true);
    await engine.start(clone.id);
    sh = await shell(engine, clone.id);
    expect((await sh.run('md5sum /mnt/disk/f')).output).toBe(sum);
    await sh.run('echo changed > /mnt/disk/f && sync');
    sh.close();
    await engine.stop(clone.id, { timeoutMs: 30_000 });
    await engine.start(vm.id);
    sh = await shell(engine, vm.id);
    expect((await sh.run('md5sum /mnt/disk/f')).output).toBe(sum); // the original is untouched
    sh.close();
    await engine.stop(vm.id, { force: true });
  });

  it('deletes only what a VM owns: shared ISOs and external disks stay, and reports both', async () => {
    const shared = join(t.files, 'shared');
    mkdirSync(shared);
    const iso = join(shared, 'shared.iso');
    copyFileSync(guest().iso, iso);
    const external = join(shared, 'external.qcow2');
    await engine.img.create(external, { format: 'qcow2', sizeBytes: 16 << 20 });
    const a = await makeGuestVm(engine, 'del-a', { iso, disk: { kind: 'existing', path: external } });
    const b = await makeGuestVm(engine, 'del-b', { iso });
    await engine.start(b.id);
    await expect(deleteVm(engine, b.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    await engine.stop(b.id, { force: true });
    const result = await deleteVm(engine, a.id);
    expect(result.kept.sort()).toEqual([external, iso].sort());
    expect(result.removed).toContain(join(engine.paths(a.id).vmDir, 'vm.json'));
    expect(existsSync(iso) && existsSync(external)).toBe(true);
    expect(existsSync(engine.paths(a.id).vmDir)).toBe(false);
    const resB = await deleteVm(engine, b.id);
    expect(resB.removed).toContain(join(engine.paths(b.id).vmDir, 'disk0.qcow2'));
    expect(existsSync(iso)).toBe(true);
  });

  it('refuses to delete a VM whose disk backs another VM', async () => {
    const base = await makeGuestVm(engine, 'base');
    const overlay = join(t.files, 'overlay.qcow2');
    await engine.img.create(overlay, {
      format: 'qcow2',
      sizeBytes: 0,
      backing: { path: join(engine.paths(base.id).vmDir, 'disk0.qcow2'), format: 'qcow2' },
    });
    // The path policy refuses such a chain now; a VM made before it (or by hand) may have one,
    // and the base must still be protected.
    await expect(
      makeGuestVm(engine, 'refused', { disk: { kind: 'existing', path: overlay, format: 'qcow2' } }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/own data/) });
    const made = await makeGuestVm(engine, 'overlay user', { disk: { kind: 'none' } });
    const user = engine.store.save({
      ...made,
      disks: [
        {
          id: 'disk0',
          owned: false,
          path: overlay,
          format: 'qcow2',
          bus: 'virtio',
          readOnly: false,
          cache: 'writeback',
          discard: true,
          backingChain: [],
          blockDevice: false,
        },
      ],
    });
    await expect(deleteVm(engine, base.id)).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/overlay user/),
    });
    await deleteVm(engine, user.id);
    rmSync(overlay);
    await deleteVm(engine, base.id);
  });

  it('says which ISO is missing when a VM cannot start', async () => {
    const iso = join(t.files, 'gone.iso');
    copyFileSync(guest().iso, iso);
    const vm = await makeGuestVm(engine, 'no iso', { iso });
    rmSync(iso);
    await expect(engine.start(vm.id)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(iso),
    });
  });
});
