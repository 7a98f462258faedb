// Issue 15's whole-VM archive against real QEMU: a VM with a full and an incremental backup is
// exported as one file, imported on "another machine" (a second Hangar home) as a new VM that
// boots with the data of that moment, and hostile or damaged archives are refused with nothing
// left behind: a path out of the folder, a link, a file no manifest lists, a changed byte.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extract, pack } from 'tar-stream';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Engine } from '../../src/main/engine/engine';
import { createBackup, listBackupsOf } from '../../src/main/engine/backup';
import { exportArchive, importArchive } from '../../src/main/engine/backup/archive';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, runOnce, shell } from '../support/vms';

const here = tempHome('hangar-arch-a-');
const there = tempHome('hangar-arch-b-');
let a: Engine;
let b: Engine;
let vmId: string;
const archive = join(here.files, 'web.hangar.tar');

beforeAll(async () => {
  a = await openEngine(here);
  b = await openEngine(there);
  vmId = (await makeGuestVm(a, 'web', { disk: { kind: 'new', size: '128M' } })).id;
});
afterAll(async () => {
  for (const [e, t] of [
    [a, here],
    [b, there],
  ] as const) {
    for (const v of e?.store.list() ?? []) if (!e.isStopped(v.id)) await e.stop(v.id, { force: true });
    await closeEngine(e, t);
  }
});

/** A copy of the archive with members changed, dropped or added (tar headers as tar-stream writes them). */
async function repack(
  to: string,
  edit: (name: string, data: Buffer) => Buffer | null,
  extra: { name: string; type?: 'file' | 'symlink'; data?: string; linkname?: string }[] = [],
): Promise<string> {
  const out = pack();
  const written = pipeline(out, createWriteStream(to));
  const ex = extract();
  const src = createReadStream(archive);
  src.on('error', (err) => ex.destroy(err));
  src.pipe(ex);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const data = edit(entry.header.name, Buffer.concat(chunks));
    if (data) out.entry({ name: entry.header.name, mode: 0o600 }, data);
  }
  for (const x of extra)
    out.entry(
      x.type === 'symlink'
        ? { name: x.name, type: 'symlink', linkname: x.linkname ?? '/etc/passwd' }
        : { name: x.name, mode: 0o600 },
      x.data ?? '',
    );
  out.finalize();
  await written;
  return to;
}

describe('a whole VM as one file', () => {
  it('exports a VM as of its newest backup (a full and an incremental), never over a file', async () => {
    await a.start(vmId);
    const sh = await shell(a, vmId, 120_000);
    expect((await sh.run('echo first >/mnt/disk/mark && sync')).status).toBe(0);
    const full = await createBackup(a, vmId);
    expect((await sh.run('echo moved-$((40+2)) >/mnt/disk/mark && sync')).status).toBe(0);
    const incr = await createBackup(a, vmId);
    sh.close();
    expect(incr).toMatchObject({ kind: 'incremental', parent: full.id });
    await a.stop(vmId, { force: true });
    const r = await exportArchive(a, 'web', archive);
    expect(r).toMatchObject({ file: archive, backup: incr.id, vm: 'web' });
    expect(r.bytes).toBeGreaterThan(0);
    await expect(exportArchive(a, 'web', archive)).rejects.toThrow(/exists already/);
    await expect(exportArchive(a, 'web', join(here.home, 'web.tar'))).rejects.toThrow(
      /inside Hangar's own data/,
    );
  }, 300_000);

  it('imports it on another machine as a new VM that boots with the data of that moment', async () => {
    const vm = await importArchive(b, archive, 'web moved');
    expect(vm.name).toBe('web moved');
    expect(listBackupsOf(b, { vm: vmId, repository: null }).backups).toHaveLength(2);
    await b.start(vm.id);
    expect(await runOnce(b, vm.id, 'cat /mnt/disk/mark')).toMatch(/moved-42/);
    await b.stop(vm.id, { force: true });
    // The same points twice: said, and nothing changes.
    await expect(importArchive(b, archive, 'web again')).rejects.toThrow(/in the repository already/);
  }, 300_000);

  it('refuses hostile and damaged archives, leaving nothing behind', async () => {
    const before = b.store.list().length;
    const cases: [string, Promise<string>, RegExp][] = [
      [
        'escape',
        repack(join(there.files, 'escape.tar'), (_n, d) => d, [{ name: '../evil', data: 'x' }]),
        /no Hangar backup holds/,
      ],
      [
        'link',
        repack(join(there.files, 'link.tar'), (_n, d) => d, [
          { name: '20261128T134512345Z-a1b2c3/vm.json', type: 'symlink' },
        ]),
        /is a symlink, not a file/,
      ],
      [
        'extra',
        repack(join(there.files, 'extra.tar'), (_n, d) => d, [
          { name: `${'20261128T134512345Z-a1b2c3'}/disk9.qcow2`, data: 'x' },
        ]),
        /no manifest lists/,
      ],
      [
        'flipped',
        repack(join(there.files, 'flipped.tar'), (n, d) => {
          if (!n.endsWith('disk0.qcow2')) return d;
          const copy = Buffer.from(d);
          copy[copy.length - 1] = copy[copy.length - 1]! ^ 0xff;
          return copy;
        }),
        /is damaged: .*disk0\.qcow2: SHA-256 differs/,
      ],
      [
        'not a tar',
        Promise.resolve(join(there.files, 'junk.tar')),
        /could not be read as a Hangar archive|not a Hangar VM archive/,
      ],
    ];
    writeFileSync(join(there.files, 'junk.tar'), 'not a tar at all\n'.repeat(100));
    for (const [what, file, error] of cases) {
      // A fresh home each time would hide leftovers: the same one must stay clean.
      const vmsBefore = b.store.list().length;
      await expect(importArchive(b, await file, `bad ${what}`), what).rejects.toThrow(error);
      expect(b.store.list().length, what).toBe(vmsBefore);
    }
    expect(b.store.list().length).toBe(before);
    const repo = join(there.home, 'backups');
    expect(readdirSync(repo).filter((d) => d.startsWith('.import-'))).toEqual([]);
    expect(existsSync(join(there.files, '..', 'evil'))).toBe(false);
  }, 120_000);
});
