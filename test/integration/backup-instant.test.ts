// Instant restore against real QEMU and the tiny guest: the new VM runs at once on overlays over
// the backup chain, reads the backup's data before anything is copied, keeps the chain from being
// pruned while it needs it, goes on streaming after a stop, and once whole needs the backup no more.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import {
  createBackup,
  instantRestore,
  pruneBackups,
  restoreBackup,
  resumeInstantRestore,
} from '../../src/main/engine/backup';
import { createSnapshot } from '../../src/main/engine/snapshots';
import { readJournal } from '../../src/main/engine/journal/journal';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, shell } from '../support/vms';
import type { SerialConsole } from '../../src/main/engine/consoles/serial';

const t = tempHome('hangar-bk-instant-');
let engine: Engine;
const vms: string[] = [];
const SUMS = 'md5sum /mnt/disk/one /mnt/disk/two';

beforeAll(async () => {
  engine = await openEngine(t);
}, 400_000);
afterAll(async () => {
  for (const sh of shells.values()) sh.close();
  for (const id of vms) if (!engine.isStopped(id)) await engine.stop(id, { force: true });
  await closeEngine(engine, t);
}, 400_000);

const shells = new Map<string, SerialConsole>();

/** Runs a command on the guest's shell, opened once per boot (the ready marker shows once). */
async function run(id: string, command: string): Promise<string> {
  let sh = shells.get(id);
  if (!sh) {
    sh = await shell(engine, id, 120_000);
    shells.set(id, sh);
  }
  const r = await sh.run(command, 60_000);
  expect(r.status, r.output).toBe(0);
  return r.output;
}

async function stop(id: string): Promise<void> {
  shells.get(id)?.close();
  shells.delete(id);
  await engine.stop(id, { force: true });
}

/** The running disk's backing file as QEMU has it open, or null. */
async function backingOf(id: string): Promise<string | null> {
  const nodes = await engine
    .qmp(id)
    .execute<{ 'node-name': string; backing_file?: string }[]>('query-named-block-nodes', { flat: true });
  return nodes.find((n) => n['node-name'] === 'disk0')?.backing_file ?? null;
}

async function until(what: string, check: () => boolean, timeoutMs = 180_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('runs a VM on its backup at once, streams the data in, and then needs the backup no more', async () => {
  const src = await makeGuestVm(engine, 'instant-src', { disk: { kind: 'new', size: '128M' } });
  vms.push(src.id);
  await engine.start(src.id);
  await run(src.id, 'dd if=/dev/urandom of=/mnt/disk/one bs=1M count=8 2>/dev/null && sync');
  const full = await createBackup(engine, src.id);
  await run(src.id, 'dd if=/dev/urandom of=/mnt/disk/two bs=1M count=4 2>/dev/null && sync');
  const inc = await createBackup(engine, src.id);
  expect(inc).toMatchObject({ kind: 'incremental', parent: full.id });
  const sums = await run(src.id, SUMS);
  await stop(src.id);

  // The stream waits at the failpoint: what the guest reads meanwhile comes from the backup.
  let reached!: () => void;
  const atStream = new Promise<void>((r) => (reached = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  engine.failpoints.set('instant:stream', async () => {
    reached();
    await released;
  });
  const vm = await instantRestore(engine, inc.id, 'instant');
  vms.push(vm.id);
  expect(engine.runtime(vm.id).state).toBe('running');
  expect(vm.instantRestore).toEqual({ backup: inc.id, repository: expect.any(String) });
  await atStream;
  expect(await backingOf(vm.id)).toBe(join(inc.dir, 'disk0.qcow2'));
  expect(await run(vm.id, SUMS)).toBe(sums);

  // Prune keeps what the VM still reads, whatever the policy says.
  const held = await pruneBackups(engine, src.id, { last: 1 });
  expect(held.removed).toEqual([]);
  expect(held.held).toEqual([
    { point: full.id, vm: 'instant' },
    { point: inc.id, vm: 'instant' },
  ]);

  // Until the data is in, nothing may rest on clusters that still live in the backup.
  await expect(createSnapshot(engine, vm.id, 'too early')).rejects.toThrow(
    /still reads from backup .*Take snapshots once/,
  );

  // Stopped before the stream ran: the mark stays, and the disk still reads from the backup.
  await stop(vm.id);
  release();
  engine.failpoints.delete('instant:stream');
  expect(engine.resolve(vm.id).instantRestore).not.toBeNull();
  const disk = join(engine.paths(vm.id).vmDir, 'disk0.qcow2');
  expect((await engine.img.info(disk, 'qcow2'))['backing-filename']).toBe(join(inc.dir, 'disk0.qcow2'));

  // A disposable run streams nothing: its disks are throwaway overlays over the VM's own.
  await engine.start(vm.id, { disposable: true });
  await resumeInstantRestore(engine, vm.id);
  await stop(vm.id);
  expect(engine.resolve(vm.id).instantRestore).not.toBeNull();
  expect((await engine.img.info(disk, 'qcow2'))['backing-filename']).toBe(join(inc.dir, 'disk0.qcow2'));

  // QEMU follows the backup's headers at every start: a repository gone is said, not tried.
  const backups = join(engine.home, 'backups');
  renameSync(backups, `${backups}-moved`);
  await expect(engine.start(vm.id)).rejects.toThrow(/Put that folder back/);
  renameSync(`${backups}-moved`, backups);

  // The next start goes on streaming, until the disk holds everything.
  await engine.start(vm.id);
  await until('the stream is done', () => engine.resolve(vm.id).instantRestore === null);
  expect(await backingOf(vm.id)).toBeNull();
  expect(readJournal(engine.paths(vm.id).vmDir).some((e) => e.what === 'instant restore' && e.ok)).toBe(true);

  // Free of the backup: the points can go, the repository too, and the VM boots with its data.
  const pruned = await pruneBackups(engine, src.id, { last: 1 });
  expect(pruned).toMatchObject({ removed: [full.id], held: [] });
  rmSync(join(engine.home, 'backups'), { recursive: true, force: true });
  await stop(vm.id);
  expect((await engine.img.info(disk, 'qcow2'))['backing-filename']).toBeUndefined();
  await engine.start(vm.id);
  expect(await run(vm.id, SUMS)).toBe(sums);
}, 400_000);

it('leaves out a writable host disk that only a manifest names (a backup must not hand the guest host files)', async () => {
  const src = await makeGuestVm(engine, 'forged-src');
  const point = await createBackup(engine, src.id);
  const victim = join(t.files, 'victim.img');
  writeFileSync(victim, 'host data');
  const file = join(point.dir, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as { config: { disks: unknown[] } };
  m.config.disks.push({
    id: 'disk9',
    owned: false,
    path: victim,
    format: 'raw',
    backingChain: [],
    blockDevice: false,
    bus: 'virtio',
    readOnly: false,
    cache: 'writeback',
    discard: false,
  });
  writeFileSync(file, JSON.stringify(m));
  const restored = await restoreBackup(engine, point.id, 'forged-restored');
  expect(restored.disks.map((d) => d.id)).toEqual(['disk0']);
});
