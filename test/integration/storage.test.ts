// qemu-img for real: create, info, resize, check, offline snapshots and convert, with file names
// that would break a command line built from strings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuImg } from '../../src/main/engine/storage/qemu-img';
import { parseSize } from '../../src/main/engine/storage/size';

const img = new QemuImg('/usr/bin/qemu-img');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hangar-img-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('qemu-img', () => {
  it.each([
    'plain.qcow2',
    'a,b=c.qcow2',
    'with space "q".qcow2',
    '-dash.qcow2',
    'ünï 🚀.qcow2',
    'new\nline.qcow2',
    'json:{x}.qcow2',
  ])('creates and reads back %j', async (name) => {
    const path = join(dir, name);
    await img.create(path, { format: 'qcow2', sizeBytes: parseSize('1G') });
    const info = await img.info(path, 'qcow2');
    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(2 ** 30);
    expect(info.filename).toBe(path);
  });

  it('refuses to overwrite an existing file', async () => {
    const path = join(dir, 'keep.raw');
    writeFileSync(path, 'precious');
    await expect(img.create(path, { format: 'raw', sizeBytes: 2 ** 20 })).rejects.toThrow(/already exists/);
    expect(statSync(path).size).toBe(8);
  });

  it('grows, and refuses to shrink unless told', async () => {
    const path = join(dir, 'grow.qcow2');
    await img.create(path, { format: 'qcow2', sizeBytes: parseSize('1G') });
    await img.resize(path, 'qcow2', parseSize('2G'));
    expect((await img.info(path, 'qcow2'))['virtual-size']).toBe(2 * 2 ** 30);
    await expect(img.resize(path, 'qcow2', parseSize('1G'))).rejects.toThrow(/--shrink/);
    await img.resize(path, 'qcow2', parseSize('1G'), { allowShrink: true });
    expect((await img.info(path, 'qcow2'))['virtual-size']).toBe(2 ** 30);
  });

  it('checks an image and reports a clean result', async () => {
    const path = join(dir, 'check.qcow2');
    await img.create(path, { format: 'qcow2', sizeBytes: parseSize('64M') });
    const r = await img.check(path, 'qcow2');
    expect(r.corruptions ?? 0).toBe(0);
    expect(r['check-errors'] ?? 0).toBe(0);
  });

  it('creates, lists, applies and deletes offline snapshots', async () => {
    const path = join(dir, 'snap,x=y.qcow2');
    await img.create(path, { format: 'qcow2', sizeBytes: parseSize('64M') });
    await img.snapshot('create', path, 'hs-one');
    await img.snapshot('create', path, 'hs-two');
    expect((await img.info(path, 'qcow2')).snapshots?.map((s) => s.name)).toEqual(['hs-one', 'hs-two']);
    await img.snapshot('apply', path, 'hs-one');
    await img.snapshot('delete', path, 'hs-one');
    expect((await img.info(path, 'qcow2')).snapshots?.map((s) => s.name)).toEqual(['hs-two']);
  });

  it('converts with progress and makes a backing-file overlay', async () => {
    const src = join(dir, 'src.raw');
    await img.create(src, { format: 'raw', sizeBytes: parseSize('16M') });
    const seen: number[] = [];
    await img.convert(
      { path: src, format: 'raw' },
      { path: join(dir, 'dst,1.qcow2'), format: 'qcow2' },
      (p) => seen.push(p),
    );
    expect(seen.at(-1)).toBe(100);
    const overlay = join(dir, 'overlay.qcow2');
    await img.create(overlay, {
      format: 'qcow2',
      sizeBytes: 0,
      backing: { path: join(dir, 'dst,1.qcow2'), format: 'qcow2' },
    });
    expect((await img.info(overlay, 'qcow2'))['full-backing-filename']).toBe(join(dir, 'dst,1.qcow2'));
  });

  it('says a missing image is not found, once', async () => {
    const err = await img.info(join(dir, 'nope.qcow2'), 'qcow2').catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    expect((err as Error).message.match(/Could not open/g)).toHaveLength(1);
  });
});
