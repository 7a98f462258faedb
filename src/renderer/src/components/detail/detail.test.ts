import { describe, expect, it } from 'vitest';
import type { VmConfig } from '../../../../shared/vm';
import { isForeign, treeLines, type SnapshotItem } from './snapshot-tree';
import { formFromConfig, isDirty, newForwardRow, patchFromForm } from './settings-form';
import { screenshotName } from './download';

function snap(id: string, parent: string | null, createdAt: string): SnapshotItem {
  return {
    id,
    tag: `hs-${id}`,
    name: `n-${id}`,
    description: '',
    createdAt,
    parent,
    vmState: true,
    current: false,
    missingIn: [],
    ramBytes: 0,
    ownBytes: 0,
    thumbnail: false,
  };
}

const shape = (list: SnapshotItem[]) =>
  treeLines(list).map((l) => [l.snapshot?.id ?? 'HERE', l.cells.join(' '), l.up, l.down]);

describe('treeLines', () => {
  it('keeps a chain in one column and marks where the VM is', () => {
    const a = snap('aaaaaaaa', null, '2025-01-01T00:00:00Z');
    const b = { ...snap('bbbbbbbb', 'aaaaaaaa', '2025-01-02T00:00:00Z'), current: true };
    expect(shape([b, a])).toEqual([
      ['aaaaaaaa', '', false, true],
      ['bbbbbbbb', '', true, true],
      ['HERE', '', true, false],
    ]);
  });

  it('indents the children of a branch point, with elbows and passing lines', () => {
    const rows = shape([
      snap('cccccccc', 'aaaaaaaa', '2025-01-03T00:00:00Z'),
      { ...snap('aaaaaaaa', null, '2025-01-01T00:00:00Z'), current: true },
      snap('bbbbbbbb', 'aaaaaaaa', '2025-01-02T00:00:00Z'),
      snap('dddddddd', 'bbbbbbbb', '2025-01-04T00:00:00Z'),
    ]);
    expect(rows).toEqual([
      ['aaaaaaaa', '', false, true],
      ['bbbbbbbb', 'tee', false, true],
      ['dddddddd', 'pass', true, false],
      ['cccccccc', 'tee', false, false],
      ['HERE', 'end', false, false],
    ]);
  });

  it('shows children of a deleted parent at the top, survives a cycle, leaves foreign ones out', () => {
    const orphan = shape([snap('aaaaaaaa', 'gone0000', '2025-01-01T00:00:00Z')]);
    expect(orphan).toEqual([
      ['aaaaaaaa', '', false, false],
      ['HERE', '', false, false],
    ]);
    const cycle = shape([
      snap('aaaaaaaa', 'bbbbbbbb', '2025-01-01T00:00:00Z'),
      snap('bbbbbbbb', 'aaaaaaaa', '2025-01-02T00:00:00Z'),
    ]);
    expect(cycle).toEqual([['HERE', '', false, false]]);
    const foreign = { ...snap('x', null, '1970-01-01T00:00:00Z'), id: 'manual', tag: 'manual' };
    expect(isForeign(foreign)).toBe(true);
    expect(treeLines([foreign])).toEqual([]);
  });
});

const config = {
  name: 'web',
  description: '',
  tags: [],
  cpus: 2,
  memoryMiB: 1024,
  firmware: 'bios',
  tpm: false,
  nics: [{ id: 'nic0', model: 'virtio', mac: '52:54:00:12:34:56', mode: 'user', portForwards: [] }],
} as unknown as VmConfig;

describe('settings form', () => {
  it('sends only what changed', () => {
    const form = { ...formFromConfig(config), name: 'web-2' };
    expect(patchFromForm(form, config)).toEqual({ patch: { name: 'web-2' }, errors: {} });
    expect(isDirty(formFromConfig(config), config)).toBe(false);
  });

  it('turns numbers typed as text into integers and refuses the rest', () => {
    expect(patchFromForm({ ...formFromConfig(config), cpus: '4' }, config).patch).toEqual({ cpus: 4 });
    const bad = patchFromForm({ ...formFromConfig(config), cpus: '1.5', memoryMiB: '16' }, config);
    expect(bad.patch).toEqual({});
    expect(bad.errors.cpus).toBe('Enter a whole number.');
    expect(bad.errors.memoryMiB).toBe('Must be at least 32.');
  });

  it('reads tags typed with commas or spaces, and names a bad or repeated one', () => {
    const form = { ...formFromConfig(config), tags: 'web, ci  linux' };
    expect(patchFromForm(form, config).patch).toEqual({ tags: ['web', 'ci', 'linux'] });
    const bad = patchFromForm({ ...formFromConfig(config), tags: 'web Web' }, config);
    expect(bad.errors['tags.1']).toMatch(/lowercase/);
    expect(patchFromForm({ ...formFromConfig(config), tags: 'web web' }, config).errors.tags).toBe(
      'Each tag once.',
    );
  });

  it('reports a bad port forward by row and field', () => {
    const row = { ...newForwardRow(), hostPort: '70000', guestPort: '22' };
    const r = patchFromForm({ ...formFromConfig(config), forwards: [row] }, config);
    expect(r.errors['portForwards.0.hostPort']).toBe('Ports run from 1 to 65535.');
  });
});

describe('screenshotName', () => {
  it('makes a safe, sortable file name', () => {
    expect(screenshotName('my vm/ü', new Date(2025, 0, 31, 14, 25, 1))).toBe('my-vm-2025-01-31-142501.png');
    expect(screenshotName('///', new Date(2025, 0, 1, 0, 0, 0))).toBe('vm-2025-01-01-000000.png');
  });
});
