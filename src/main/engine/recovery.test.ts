import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore } from './config/store';
import { DELETE_MARKER } from './config/filenames';
import { recoverHome } from './recovery';
import { vm } from './testing/fixtures';

let home: string;
let store: ConfigStore;
const dirOf = (id: string) => join(home, 'vms', id);

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hangar-recovery-'));
  store = new ConfigStore(home);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('recoverHome', () => {
  it('removes an unpublished create or clone, and nothing else in vms/', () => {
    const staged = store.stage('aaaaaaaaaaaa');
    writeFileSync(join(staged, 'disk0.qcow2'), 'half a copy');
    mkdirSync(join(home, 'vms', 'notes'));
    const notes = recoverHome(store);
    expect(existsSync(staged)).toBe(false);
    expect(readdirSync(join(home, 'vms'))).toEqual(['notes']);
    expect(notes).toEqual([expect.stringMatching(/creation or cloning was interrupted/)]);
  });

  it('removes interrupted writes but keeps every file vm.json refers to', () => {
    const c = store.create(
      vm({
        id: 'bbbbbbbbbbbb',
        disks: [
          { id: 'disk0', owned: true, file: 'disk0.qcow2', format: 'qcow2', bus: 'virtio' },
          { id: 'disk1', owned: true, file: 'odd.new', format: 'raw', bus: 'virtio' },
        ],
      }),
    );
    const dir = dirOf(c.id);
    for (const f of [
      'disk0.qcow2',
      'odd.new',
      '.vm.json.0123abcd.tmp',
      '.last-state.json.deadbeef.tmp',
      'disk0.qcow2.new',
      'disk0.qcow2.flat',
      'disk1.raw.converting',
    ])
      writeFileSync(join(dir, f), 'x');
    expect(recoverHome(store)).toHaveLength(5);
    expect(readdirSync(dir).sort()).toEqual(['disk0.qcow2', 'odd.new', 'vm.json']);
    expect(store.load(c.id)).toEqual(c);
  });

  it('finishes an interrupted delete, keeping the files it was told to keep', () => {
    const c = store.create(vm({ id: 'cccccccccccc' }));
    const dir = dirOf(c.id);
    writeFileSync(join(dir, 'disk0.qcow2'), 'x');
    writeFileSync(join(dir, 'shared.iso'), 'not ours');
    writeFileSync(join(dir, DELETE_MARKER), JSON.stringify({ keep: [join(dir, 'shared.iso')] }));
    recoverHome(store);
    expect(readdirSync(dir)).toEqual(['shared.iso']);

    const d = store.create(vm({ id: 'dddddddddddd' }));
    writeFileSync(join(dirOf(d.id), 'disk0.qcow2'), 'x');
    writeFileSync(join(dirOf(d.id), DELETE_MARKER), JSON.stringify({ keep: [] }));
    expect(recoverHome(store)).toEqual([expect.stringMatching(/finished an interrupted delete/)]);
    expect(existsSync(dirOf(d.id))).toBe(false);
  });

  it('removes an emptied VM directory and leaves a non-empty one without vm.json to be reported', () => {
    mkdirSync(dirOf('eeeeeeeeeeee'), { recursive: true });
    mkdirSync(dirOf('ffffffffffff'));
    writeFileSync(join(dirOf('ffffffffffff'), 'disk0.qcow2'), 'someone’s data');
    recoverHome(store);
    expect(existsSync(dirOf('eeeeeeeeeeee'))).toBe(false);
    expect(readdirSync(dirOf('ffffffffffff'))).toEqual(['disk0.qcow2']);
    expect(store.list()).toMatchObject([{ id: 'ffffffffffff', ok: false }]);
  });

  it('removes the lock attempt of a process that is gone, not of a live one', () => {
    store.init();
    writeFileSync(join(home, 'engine.lock.999999999.tmp'), '{}');
    writeFileSync(join(home, `engine.lock.${process.pid}.tmp`), '{}');
    recoverHome(store);
    expect(readdirSync(home).sort()).toEqual([`engine.lock.${process.pid}.tmp`, 'vms']);
  });
});
