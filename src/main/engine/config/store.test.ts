import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigStore, newMac, newVmId } from './store';
import { vm } from '../testing/fixtures';
import { MacAddress, VmId } from '../../../shared/vm';

let home: string;
let store: ConfigStore;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hangar-store-'));
  store = new ConfigStore(home);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('ConfigStore', () => {
  it('creates a private VM directory and round-trips vm.json', () => {
    const created = store.create(vm({ name: 'Ünïcode, "quoted" -dash' }));
    const dir = join(home, 'vms', created.id);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'vm.json')).mode & 0o777).toBe(0o600);
    expect(store.load(created.id)).toEqual(created);
    expect(readdirSync(dir)).toEqual(['vm.json']); // no temp files left behind
  });

  it('refuses to create over an existing VM directory', () => {
    store.create(vm());
    expect(() => store.create(vm())).toThrow(/already exists/);
  });

  it('reports a corrupt vm.json for that VM only and leaves the file untouched', () => {
    const good = store.create(vm({ id: 'aaaaaaaaaaaa' }));
    const badDir = join(home, 'vms', 'bbbbbbbbbbbb');
    mkdirSync(badDir);
    writeFileSync(join(badDir, 'vm.json'), '{"schemaVersion": 1, "id": "bbbbbbbbbbbb", trunc');
    const entries = store.list();
    expect(entries.map((e) => [e.id, e.ok])).toEqual([
      [good.id, true],
      ['bbbbbbbbbbbb', false],
    ]);
    const bad = entries[1]!;
    expect(!bad.ok && bad.error).toMatch(/not valid JSON/);
    expect(() => store.load('bbbbbbbbbbbb')).toThrow(/not valid JSON/);
    expect(readFileSync(join(badDir, 'vm.json'), 'utf8')).toBe(
      '{"schemaVersion": 1, "id": "bbbbbbbbbbbb", trunc',
    );
  });

  it('reports a future schema version instead of guessing', () => {
    const dir = join(home, 'vms', 'cccccccccccc');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vm.json'), JSON.stringify({ schemaVersion: 99, id: 'cccccccccccc' }));
    const [entry] = store.list();
    expect(entry?.ok).toBe(false);
    expect(entry && !entry.ok && entry.error).toMatch(/schema version 99/);
  });

  it('refuses ids that could escape the vms directory', () => {
    expect(() => store.load('../../etc')).toThrow(/No VM/);
    expect(() => store.load('')).toThrow(/No VM/);
  });

  it('ignores stray entries that are not VM ids', () => {
    mkdirSync(join(home, 'vms', 'notes'), { recursive: true });
    expect(store.list()).toEqual([]);
  });

  it('rejects an invalid config on save and keeps the old file', () => {
    const created = store.create(vm());
    expect(() => store.save({ ...created, cpus: 0 })).toThrow(/at least 1 CPU/);
    expect(store.load(created.id).cpus).toBe(1);
  });
});

describe('the in-memory index', () => {
  it('serves a saved config without reading vm.json again, and copies for changing', () => {
    const created = store.create(vm({ name: 'indexed' }));
    const listed = store.list()[0]!;
    expect(listed.ok && listed.config.name).toBe('indexed');
    // Listed entries are shared with the index: frozen, so no caller can change it by accident.
    expect(() => {
      (listed as { config: { name: string } }).config.name = 'changed';
    }).toThrow(TypeError);
    // load() hands out a copy: changing it (before a save that might fail) leaves the index alone.
    const copy = store.load(created.id);
    copy.name = 'edited but not saved';
    copy.disks.push({ ...copy.disks[0]! });
    expect(store.load(created.id).name).toBe('indexed');
    expect(store.load(created.id).disks).toHaveLength(created.disks.length);
  });

  it('sees a vm.json changed behind its back, in place or by rename, and a VM removed', () => {
    const a = store.create(vm({ id: 'aaaaaaaaaaaa', name: 'alpha' }));
    store.create(vm({ id: 'bbbbbbbbbbbb', name: 'beta' }));
    expect(store.list().map((e) => e.ok && e.config.name)).toEqual(['alpha', 'beta']);
    const file = join(home, 'vms', a.id, 'vm.json');
    // Same length, written in place (an editor that does not rename): the stamp still differs.
    writeFileSync(file, readFileSync(file, 'utf8').replace('"alpha"', '"gamma"'));
    expect(store.load(a.id).name).toBe('gamma');
    // Broken by hand: reported, the previous good parse is not served.
    writeFileSync(file, '{ nope');
    expect(store.read(a.id).ok).toBe(false);
    rmSync(join(home, 'vms', 'bbbbbbbbbbbb'), { recursive: true });
    expect(store.list().map((e) => e.id)).toEqual([a.id]);
    expect(() => store.load('bbbbbbbbbbbb')).toThrow(/No VM/);
  });

  it('takes what save() wrote, not a stale parse', () => {
    const a = store.create(vm({ name: 'one' }));
    store.list();
    store.save({ ...store.load(a.id), name: 'two' });
    expect(store.list().map((e) => e.ok && e.config.name)).toEqual(['two']);
    expect(JSON.parse(readFileSync(join(home, 'vms', a.id, 'vm.json'), 'utf8')).name).toBe('two');
  });
});

describe('identifiers', () => {
  it('makes valid, distinct VM ids and unicast MACs', () => {
    const ids = new Set(Array.from({ length: 200 }, newVmId));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(VmId.safeParse(id).success).toBe(true);
    for (let i = 0; i < 50; i++) expect(MacAddress.safeParse(newMac()).success).toBe(true);
  });
});
