// The shared folder over virtio-9p, for guests whose kernel has 9p: the tiny guest on Debian's
// generic kernel mounts it with the command Hangar shows, reads the host's file and writes one
// back; made read-only, its writes are refused. (SMB, for every guest, is share.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../src/main/engine/engine';
import { createDispatcher } from '../../src/main/api/dispatch';
import { createSnapshot } from '../../src/main/engine/snapshots';
import { mountHelp } from '../../src/shared/share';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { genericGuest } from '../support/guest';
import { makeGuestVm, shell } from '../support/vms';

const t = tempHome();
const folder = join(t.files, 'nine p, shared');
mkdirSync(folder);
writeFileSync(join(folder, 'from-host.txt'), 'written on the host\n');
let engine: Engine;
let id: string;

beforeAll(async () => {
  const g = genericGuest();
  engine = await openEngine(t);
  const vm = await makeGuestVm(engine, 'nine', {
    iso: null,
    directBoot: { kernel: g.kernel, initrd: g.initrd, cmdline: g.manifest.directCmdline },
  });
  id = vm.id;
  await createDispatcher(engine).call('vm.edit', { vm: id, patch: { sharedFolder: folder, share9p: true } });
}, 600_000);
afterAll(() => closeEngine(engine, t));

async function mounted<T>(run: (sh: Awaited<ReturnType<typeof shell>>) => Promise<T>): Promise<T> {
  await engine.start(id);
  const sh = await shell(engine, id);
  try {
    const mount = await sh.run(mountHelp().linux9p.replaceAll('sudo ', ''), 60_000);
    expect(mount.status, mount.output).toBe(0);
    return await run(sh);
  } finally {
    sh.close();
    await engine.stop(id, { force: true });
  }
}

describe('shared folder over 9p', () => {
  it('is mounted by a guest with 9p, which reads the host’s file and writes one back', async () => {
    await mounted(async (sh) => {
      expect((await sh.run('cat /mnt/host/from-host.txt')).output).toBe('written on the host');
      expect((await sh.run('echo over 9p > /mnt/host/from-guest.txt && sync')).status).toBe(0);
      // A guest's setuid bit stays in an xattr (mapped-xattr), never on the host file.
      expect((await sh.run('cp /bin/busybox /mnt/host/suid && chmod 4755 /mnt/host/suid')).status).toBe(0);
      expect((await sh.run('stat -c %a /mnt/host/suid')).output).toBe('4755');
      // QEMU cannot save a mounted 9p device with the RAM: said, with what to do; unmounted, it can.
      await expect(createSnapshot(engine, id, 'mounted')).rejects.toThrow(/Unmount it in the guest first/);
      expect((await sh.run('umount /mnt/host')).status).toBe(0);
      expect((await createSnapshot(engine, id, 'unmounted')).vmState).toBe(true);
    });
    expect(statSync(join(folder, 'suid')).mode & 0o6000).toBe(0);
    expect(readFileSync(join(folder, 'from-guest.txt'), 'utf8')).toBe('over 9p\n');
  }, 180_000);

  it('read-only: the guest reads it and cannot change it', async () => {
    await createDispatcher(engine).call('vm.edit', { vm: id, patch: { shareReadOnly: true } });
    await mounted(async (sh) => {
      expect((await sh.run('cat /mnt/host/from-guest.txt')).output).toBe('over 9p');
      const write = await sh.run('echo changed > /mnt/host/from-host.txt', 30_000);
      expect(write.status).not.toBe(0);
      expect(write.output).toMatch(/Read-only file system/i);
      expect((await sh.run('rm /mnt/host/from-guest.txt', 30_000)).status).not.toBe(0);
    });
    expect(readFileSync(join(folder, 'from-host.txt'), 'utf8')).toBe('written on the host\n');
    expect(readFileSync(join(folder, 'from-guest.txt'), 'utf8')).toBe('over 9p\n');
  }, 180_000);
});
