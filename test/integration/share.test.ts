// A shared folder end to end: chosen with the CLI, refused where it would expose Hangar's data,
// then the real guest mounts it with the command Hangar shows, reads a file the host wrote and
// writes one back, under QEMU's seccomp sandbox as Hangar starts it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/main/engine/engine';
import { createDispatcher } from '../../src/main/api/dispatch';
import { mountHelp } from '../../src/shared/share';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { guest } from '../support/guest';
import { hangar, requireBuild } from '../support/cli';
import { shell } from '../support/vms';

const t = tempHome();
const g = guest();
const env = { ...t.env, NO_COLOR: '1' };
// A name with a comma and a space: one JSON value to QEMU, a literal path to Samba.
const folder = join(t.files, 'my project, shared');
mkdirSync(folder);
writeFileSync(join(folder, 'from-host.txt'), 'written on the host\n');
let engine: Engine | null = null;

beforeAll(() => requireBuild());
afterAll(async () => {
  if (engine) await closeEngine(engine, t);
  else t.cleanup();
});

describe('shared folder', () => {
  it('is chosen with hangar edit --share, shown with the mount commands, and refused where it would expose Hangar', async () => {
    const made = await hangar(env, [
      'create',
      '--name',
      'share',
      '--memory',
      '256',
      '--no-disk',
      '--kernel',
      g.kernel,
      '--initrd',
      g.initrd,
      '--append',
      g.manifest.directCmdline,
    ]);
    expect(made.code, made.stderr).toBe(0);
    // The folder above the home holds Hangar's data: the guest would reach every VM's disks.
    const above = await hangar(env, ['edit', 'share', '--share', join(t.home, '..')]);
    expect(above.code).toBe(2);
    expect(above.stderr).toMatch(/contains Hangar's own data/);
    const file = await hangar(env, ['edit', 'share', '--share', join(folder, 'from-host.txt')]);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/is not a folder/);

    expect((await hangar(env, ['edit', 'share', '--share', folder])).code).toBe(0);
    const info = await hangar(env, ['info', 'share']);
    expect(info.stdout).toContain(`Shared     ${folder} (read-write, SMB)`);
    expect(info.stdout).toContain(mountHelp().linux);
    // 9p is a device in the guest: only when asked for.
    expect(info.stdout).not.toContain(mountHelp().linux9p);
    expect(info.stdout).toContain('\\\\10.0.2.4\\qemu');
    expect((await hangar(env, ['edit', 'share', '--no-share'])).code).toBe(0);
    expect((await hangar(env, ['info', 'share'])).stdout).not.toContain('Shared');
    const nothing = await hangar(env, ['edit', 'share', '--share-readonly']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/shares no folder/);
    expect((await hangar(env, ['edit', 'share', '--share', folder, '--share-readonly'])).code).toBe(0);
    expect((await hangar(env, ['info', 'share'])).stdout).toContain(`Shared     ${folder} (read-only, SMB)`);
    const both = await hangar(env, ['edit', 'share', '--share-readonly', '--share-writable']);
    expect(both.code).toBe(2);
    expect((await hangar(env, ['edit', 'share', '--share-writable'])).code).toBe(0);
    expect((await hangar(env, ['info', 'share'])).stdout).toContain(`Shared     ${folder} (read-write, SMB)`);
  });

  it('is mounted by the real guest, which reads the host’s file and writes one back', async () => {
    engine = await openEngine(t);
    const id = engine.resolve('share').id;
    await engine.start(id);
    const sh = await shell(engine, id);
    try {
      // The command Hangar shows, as root already (the test guest has no sudo).
      const mount = await sh.run(mountHelp().linux.replaceAll('sudo ', ''), 60_000);
      expect(mount.status, mount.output).toBe(0);
      expect((await sh.run('cat /mnt/host/from-host.txt')).output).toBe('written on the host');
      expect((await sh.run('echo written in the guest > /mnt/host/from-guest.txt && sync')).status).toBe(0);
    } finally {
      sh.close();
    }
    expect(readFileSync(join(folder, 'from-guest.txt'), 'utf8')).toBe('written in the guest\n');
    await engine.stop(id, { force: true });
  }, 180_000);

  it('read-only: the guest reads the folder and cannot change it', async () => {
    const id = engine!.resolve('share').id;
    const api = createDispatcher(engine!);
    expect(await api.call('vm.edit', { vm: id, patch: { shareReadOnly: true } })).toMatchObject({
      sharedFolder: { path: folder, readOnly: true },
    });
    await engine!.start(id);
    const sh = await shell(engine!, id);
    try {
      const mount = await sh.run(mountHelp().linux.replaceAll('sudo ', ''), 60_000);
      expect(mount.status, mount.output).toBe(0);
      expect((await sh.run('cat /mnt/host/from-host.txt')).output).toBe('written on the host');
      const write = await sh.run('echo changed > /mnt/host/from-host.txt', 30_000);
      expect(write.status).not.toBe(0);
      expect(write.output).toMatch(/Permission denied|Read-only/i);
      expect((await sh.run('rm /mnt/host/from-guest.txt', 30_000)).status).not.toBe(0);
    } finally {
      sh.close();
    }
    expect(readFileSync(join(folder, 'from-host.txt'), 'utf8')).toBe('written on the host\n');
    expect(readFileSync(join(folder, 'from-guest.txt'), 'utf8')).toBe('written in the guest\n');
    await engine!.stop(id, { force: true });
    // Back to writable (the engine holds this Hangar home, so through the API, not the CLI).
    expect(await api.call('vm.edit', { vm: id, patch: { shareReadOnly: false } })).toMatchObject({
      sharedFolder: { path: folder, readOnly: false },
    });
  }, 180_000);

  it('may be stopped from the app, which cannot name a folder itself', async () => {
    const api = createDispatcher(engine!);
    const id = engine!.resolve('share').id;
    await expect(
      api.call('vm.edit', { vm: id, patch: { sharedFolder: folder } }, 'renderer'),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const off = (await api.call('vm.edit', { vm: id, patch: { sharedFolder: null } }, 'renderer')) as {
      sharedFolder: unknown;
    };
    expect(off.sharedFolder).toBeNull();
    expect(readFileSync(join(folder, 'from-host.txt'), 'utf8')).toBe('written on the host\n');
  });
});
