// Deletion safety: deleting a VM, a clone or a snapshot never removes or changes a file another VM
// uses. One world of VMs that share things (an ISO, a template's base images under linked clones,
// an external disk used by two VMs, one of them running, a file inside one VM's directory used by
// another), every shared file checksummed before and after each deletion.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HangarError } from '../../src/shared/errors';
import type { VmConfig } from '../../src/shared/vm';
import { Engine } from '../../src/main/engine/engine';
import { createDispatcher, type Dispatcher } from '../../src/main/api/dispatch';
import { diskPath } from '../../src/main/engine/qemu/argv';
import { tempHome } from '../support/env';
import { makeIso } from '../support/iso';

let t: ReturnType<typeof tempHome>;
/** Outside the home: the shared ISO and the external disk. */
let O = '';
let engine: Engine;
let api: Dispatcher;
const vms: Record<string, VmConfig> = {};

const sum = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** The files a VM uses: its disks, CD-ROM media, kernel and initrd, UEFI variables. */
function filesOf(c: VmConfig): string[] {
  const { vmDir, varsFile } = engine.paths(c.id);
  return [
    ...c.disks.map((d) => diskPath(c, d, vmDir)),
    ...c.cdroms.flatMap((cd) => (cd.media ? [cd.media] : [])),
    ...(c.directBoot ? [c.directBoot.kernel, ...(c.directBoot.initrd ? [c.directBoot.initrd] : [])] : []),
    ...(c.firmware !== 'bios' ? [varsFile] : []),
  ];
}

/** Every file some VM still uses -> its checksum. */
function usedFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of engine.store.list()) {
    if (!e.ok) continue;
    for (const f of filesOf(e.config)) out.set(f, sum(f));
  }
  return out;
}

/** The fields of an external disk other than its id, path and format. */
const EXT = {
  owned: false as const,
  bus: 'virtio' as const,
  readOnly: false,
  cache: 'writeback' as const,
  discard: true,
  backingChain: [],
  blockDevice: false,
};

/** Writes a VM's config as a hand edit (or an older Hangar) would, past the API's checks. */
function handEdit(name: string, change: (c: VmConfig) => VmConfig): void {
  vms[name] = engine.store.save(change(engine.store.load(vms[name]!.id)));
}

const fresh = async (name: string) => (vms[name] = engine.store.load(vms[name]!.id));

async function call<T>(method: string, params: unknown): Promise<T> {
  return (await api.call(method, params)) as T;
}

async function code(method: string, params: unknown): Promise<string> {
  try {
    await api.call(method, params);
    return 'OK';
  } catch (err) {
    return err instanceof HangarError ? err.code : `raw ${String(err)}`;
  }
}

let checked = 0;
let steps = 0;
/**
 * Runs one deletion (or refusal) and proves that every file still in use afterwards, and every
 * file outside the home that any VM used, is still there and unchanged. `own` lists files of the
 * acting VM, which its own operation may change (a snapshot deleted from its own image).
 */
async function deleting(what: string, act: () => Promise<unknown>, own: string[] = []): Promise<void> {
  const before = usedFiles();
  await act();
  steps++;
  const problems: string[] = [];
  for (const [file, hash] of before) {
    const mustStay = stillNeeded(file) || !file.startsWith(`${t.home}/`);
    if (!mustStay) continue;
    checked++;
    if (!existsSync(file)) problems.push(`${what}: removed ${file}, which is in use or not Hangar's`);
    else if (!own.includes(file) && sum(file) !== hash) problems.push(`${what}: changed ${file}`);
  }
  expect(problems).toEqual([]);
}

/** Whether any remaining VM references the file. */
function stillNeeded(file: string): boolean {
  return engine.store.list().some((e) => e.ok && filesOf(e.config).includes(file));
}

beforeAll(async () => {
  t = tempHome('hangar-del-');
  O = mkdtempSync(join(tmpdir(), 'hangar-del-outside-'));
  engine = await Engine.open({ env: t.env, home: t.home });
  api = createDispatcher(engine);
  makeIso(join(O, 'shared.iso'));
  execFileSync(engine.host.qemuImg.path, ['create', '-q', '-f', 'raw', join(O, 'ext.raw'), '8M']);
  writeFileSync(join(O, 'ext.raw'), 'external disk data', { flag: 'r+' });
  const iso = join(O, 'shared.iso');
  const base = { cpus: 1, memoryMiB: 64, firmware: 'bios', network: null };
  const make = async (name: string, extra: object) =>
    (vms[name] = await call<VmConfig>('vm.create', { name, ...base, ...extra }));
  const own = { disk: { kind: 'new', size: '16M', format: 'qcow2' } };

  // An external raw disk and the ISO, shared by A and B; B runs throughout.
  await make('A', { iso, disk: { kind: 'existing', path: join(O, 'ext.raw'), format: 'raw' } });
  await make('B', { iso, disk: { kind: 'existing', path: join(O, 'ext.raw'), format: 'raw' } });
  // A template with two linked clones, each with a snapshot of its own.
  await make('T', { iso, ...own });
  await call('template.set', { vm: vms.T!.id, template: true });
  for (const c of ['C1', 'C2']) {
    vms[c] = await call<VmConfig>('vm.linkedClone', { vm: vms.T!.id, name: c });
    await call('snapshot.create', { vm: vms[c]!.id, name: `${c}-snap` });
  }
  // A UEFI template without disks: its clone's only link to it is the variable store.
  await make('U', { firmware: 'uefi', disk: { kind: 'none' } });
  await call('template.set', { vm: vms.U!.id, template: true });
  vms.UC = await call<VmConfig>('vm.linkedClone', { vm: vms.U!.id, name: 'UC' });
  // A VM with two snapshots and a full clone of it.
  await make('D', { iso, ...own });
  await call('snapshot.create', { vm: vms.D!.id, name: 'd1' });
  await call('snapshot.create', { vm: vms.D!.id, name: 'd2' });
  vms.DE = await call<VmConfig>('vm.clone', { vm: vms.D!.id, name: 'DE' });
  // The path policy no longer lets a VM use another VM's files, but VMs made before it (or
  // edited by hand) may, and deleting must still protect them: such configs are written directly.
  // H uses DE's own disk in place, as an external disk.
  const deDisk = diskPath(vms.DE, vms.DE.disks[0]!, engine.paths(vms.DE.id).vmDir);
  await make('H', { disk: { kind: 'none' } });
  handEdit('H', (c) => ({
    ...c,
    disks: [{ ...EXT, id: 'disk0', path: deDisk, format: 'qcow2' }],
  }));
  // F's directory holds an ISO that G uses (and F does not).
  await make('F', { ...own });
  const inside = join(engine.paths(vms.F!.id).vmDir, 'inside.iso');
  copyFileSync(iso, inside);
  await make('G', { iso, disk: { kind: 'none' } });
  handEdit('G', (c) => ({ ...c, cdroms: c.cdroms.map((cd) => ({ ...cd, media: inside })) }));
  // L's external disk is an overlay made by hand on K's own disk, naming it with a double slash.
  await make('K', { ...own });
  const kDisk = join(engine.paths(vms.K!.id).vmDir, 'disk0.qcow2');
  const overlay = join(O, 'on-k.qcow2');
  execFileSync(engine.host.qemuImg.path, [
    'create',
    '-q',
    '-f',
    'qcow2',
    '-F',
    'qcow2',
    '-b',
    kDisk.replace('/vms/', '/vms//'),
    overlay,
  ]);
  await make('L', { disk: { kind: 'none' } });
  handEdit('L', (c) => ({ ...c, disks: [{ ...EXT, id: 'disk0', path: overlay, format: 'qcow2' }] }));
  // M kept a detached raw disk1.raw in its directory, and has a new qcow2 disk1.
  await make('M', { ...own });
  await call('disk.add', { vm: vms.M!.id, disk: { kind: 'new', size: '1M', format: 'raw' } });
  await call('disk.remove', { vm: vms.M!.id, disk: 'disk1', deleteFile: false });
  writeFileSync(join(engine.paths(vms.M!.id).vmDir, 'disk1.raw'), 'kept data', { flag: 'r+' });
  await call('disk.add', { vm: vms.M!.id, disk: { kind: 'new', size: '1M', format: 'qcow2' } });

  await call('vm.start', { vm: vms.B!.id });
});

afterAll(async () => {
  if (engine) {
    for (const v of engine.list())
      if (v.state !== 'stopped' && v.state !== 'crashed')
        await engine.stop(v.id, { force: true }).catch(() => undefined);
    await engine.close();
  }
  t?.cleanup();
  if (O) rmSync(O, { recursive: true, force: true });
});

describe('deleting never removes or changes a file another VM uses', () => {
  it('holds for snapshots, linked clones, templates, full clones, shared ISOs and external disks', async () => {
    const C1 = vms.C1!;
    const c1Disk = filesOf(C1)[0]!;
    await deleting(
      'snapshot of a linked clone',
      () => call('snapshot.delete', { vm: C1.id, snapshot: 'C1-snap' }),
      [c1Disk],
    );
    await deleting('linked clone', () => call('vm.delete', { vm: C1.id }));

    // A template under a linked clone cannot go, whether its clones hang on a disk or only on
    // the UEFI variable store.
    await deleting('template with a clone', async () =>
      expect(await code('vm.delete', { vm: vms.T!.id })).toBe('CONFLICT'),
    );
    await deleting('UEFI template with a clone', async () =>
      expect(await code('vm.delete', { vm: vms.U!.id })).toBe('CONFLICT'),
    );
    // Nor its disk, removed with its file or only detached (which would orphan the base file).
    for (const deleteFile of [true, false])
      await deleting(`template disk (deleteFile ${deleteFile})`, async () =>
        expect(await code('disk.remove', { vm: vms.T!.id, disk: 'disk0', deleteFile })).toBe('CONFLICT'),
      );
    expect(existsSync(engine.paths(vms.U!.id).varsFile)).toBe(true);

    const dDisk = filesOf(await fresh('D'))[0]!;
    await deleting(
      'snapshot of a cloned VM',
      () => call('snapshot.delete', { vm: vms.D!.id, snapshot: 'd1' }),
      [dDisk],
    );
    await deleting('full clone whose disk another VM uses in place', () =>
      call('vm.delete', { vm: vms.DE!.id }),
    );
    expect(existsSync(filesOf(vms.H!)[0]!)).toBe(true);
    expect((await call<{ name: string }[]>('snapshot.list', { vm: vms.D!.id })).map((s) => s.name)).toEqual([
      'd2',
    ]);

    // A shares the running B's external disk and ISO.
    await deleting('VM sharing an external disk and an ISO with a running VM', () =>
      call('vm.delete', { vm: vms.A!.id }),
    );
    expect(engine.runtime(vms.B!.id).state).toBe('running');
    expect(readFileSync(join(O, 'ext.raw')).subarray(0, 18).toString()).toBe('external disk data');

    const inside = join(engine.paths(vms.F!.id).vmDir, 'inside.iso');
    await deleting('VM whose directory holds a file another VM uses', () =>
      call('vm.delete', { vm: vms.F!.id }),
    );
    expect(existsSync(inside)).toBe(true);

    // A file another VM's disk is built on, spelled differently in that disk's header, stays:
    // neither deleting the disk's file nor deleting the VM may remove it.
    const kDisk = filesOf(vms.K!)[0]!;
    await deleting('disk with a dependent, with its file', async () =>
      expect(await code('disk.remove', { vm: vms.K!.id, disk: 'disk0', deleteFile: true })).toBe('CONFLICT'),
    );
    await deleting('VM with a dependent spelled differently', async () =>
      expect(await code('vm.delete', { vm: vms.K!.id })).toBe('CONFLICT'),
    );
    expect(existsSync(kDisk)).toBe(true);

    // Converting a disk never writes over a file already in the VM's directory.
    const kept = join(engine.paths(vms.M!.id).vmDir, 'disk1.raw');
    const keptSum = sum(kept);
    await deleting('convert beside a kept file', () =>
      call('disk.convert', { vm: vms.M!.id, disk: 'disk1', format: 'raw' }),
    );
    expect(sum(kept)).toBe(keptSum);
    expect((await fresh('M')).disks.find((d) => d.id === 'disk1')).toMatchObject({
      file: 'disk1-2.raw',
      format: 'raw',
    });

    // Once independent (which needs its snapshots gone), the clone no longer needs the template.
    const c2 = filesOf(vms.C2!);
    await deleting(
      'snapshot of the other linked clone',
      () => call('snapshot.delete', { vm: vms.C2!.id, snapshot: 'C2-snap' }),
      c2,
    );
    await deleting('make independent', () => call('vm.makeIndependent', { vm: vms.C2!.id }), c2);
    await deleting('template without clones', async () => {
      await call('template.set', { vm: vms.T!.id, template: false });
      await call('vm.delete', { vm: vms.T!.id });
    });
    await deleting('linked clone of the UEFI template', () => call('vm.delete', { vm: vms.UC!.id }));
    await deleting('UEFI template', () => call('vm.delete', { vm: vms.U!.id }));

    // What is left is whole: every file in use exists, every qcow2 checks clean and has no backing.
    const left = engine.store.list().flatMap((e) => (e.ok ? [e.config] : []));
    expect(left.map((c) => c.name).sort()).toEqual(['B', 'C2', 'D', 'G', 'H', 'K', 'L', 'M']);
    for (const c of left)
      for (const d of c.disks) {
        if (d.format !== 'qcow2' || c.name === 'L') continue; // L's overlay is on K by design
        const p = diskPath(c, d, engine.paths(c.id).vmDir);
        const info = await engine.img.info(p, 'qcow2');
        expect(info['backing-filename'], p).toBeUndefined();
        const check = await engine.img.check(p, 'qcow2');
        expect(check.corruptions ?? 0, p).toBe(0);
        expect(check['check-errors'] ?? 0, p).toBe(0);
      }
    await call('vm.stop', { vm: vms.B!.id, force: true });
    await call('vm.start', { vm: vms.C2!.id });
    await call('vm.stop', { vm: vms.C2!.id, force: true });
    console.log(
      `deletion: ${steps} deletions and refusals, ${checked} checks of files in use or outside the home: ` +
        '0 removed, 0 changed',
    );
  });
});
