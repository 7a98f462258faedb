// A stopped VM's backup runs its disks in a QEMU of its own (backup/disk-qemu.ts). An engine
// killed during such a backup leaves that QEMU holding the disks' locks; the next engine ends it,
// says so, and the VM starts again.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import { diskQemuPidFile } from '../../src/main/engine/backup/disk-qemu';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, waitState } from '../support/vms';

const t = tempHome('hangar-bk-recover-');
let engine: Engine | null = null;

afterAll(async () => {
  if (engine) await closeEngine(engine, t);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('ends a backup QEMU an earlier engine left, and the VM starts', async () => {
  let e = await openEngine(t);
  const vm = await makeGuestVm(e, 'left-behind');
  await e.close();
  // What a killed engine leaves: the guest-less QEMU with the VM's disk open, detached.
  const paths = e.paths(vm.id);
  mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
  const disk = `${paths.vmDir}/${(vm.disks[0] as { file: string }).file}`;
  const child = spawn(
    e.host.qemu.path,
    [
      '-machine',
      'none',
      '-nodefaults',
      '-display',
      'none',
      '-blockdev',
      JSON.stringify({ driver: 'qcow2', 'node-name': 'disk0', file: { driver: 'file', filename: disk } }),
      '-pidfile',
      diskQemuPidFile(paths),
    ],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  const pid = child.pid!;
  for (let i = 0; i < 100 && !existsSync(diskQemuPidFile(paths)); i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(alive(pid)).toBe(true);

  e = await openEngine(t);
  engine = e;
  expect(e.recovered).toContain(`the backup QEMU of ${vm.id} (pid ${pid})`);
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  expect(alive(pid)).toBe(false);
  await e.start(vm.id);
  await waitState(e, vm.id, 'running');
});
