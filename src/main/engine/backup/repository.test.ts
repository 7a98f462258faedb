import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pathPolicy } from '../policy/paths';
import { BackupFileName, MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest } from './manifest';
import {
  chainOf,
  findBackup,
  listBackups,
  newBackupId,
  publishBackup,
  removeStaleAll,
  repositoryPath,
  stageBackup,
} from './repository';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'hangar-repo-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const VM = 'abcdefghijkl';

function manifest(id: string, parent: string | null, chainId = 'a1b2c3d4e5f6'): Manifest {
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    id,
    vm: { id: VM, name: 'vm' },
    config: {},
    chainId,
    kind: parent ? 'incremental' : 'full',
    parent,
    fullReason: parent ? null : 'first',
    live: true,
    consistency: 'crash-consistent',
    currentSnapshot: null,
    hangarVersion: '0.1.0',
    qemuVersion: null,
    startedAt: '',
    completedAt: '',
    disks: [],
    varsFile: null,
    files: [],
    encryption: null,
  };
}

function write(repo: string, m: Manifest): void {
  const dir = stageBackup(repo, VM, m.id);
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(m));
  publishBackup(dir, repo, VM, m.id);
}

describe('repository', () => {
  it('lists only published backups, oldest first, and follows a chain', () => {
    const repo = tmp();
    const a = '20261128T100000000Z-aaaaaa';
    const b = '20261128T110000000Z-bbbbbb';
    write(repo, manifest(b, a));
    write(repo, manifest(a, null));
    const half = stageBackup(repo, VM, '20261128T120000000Z-cccccc');
    writeFileSync(join(half, MANIFEST_FILE), JSON.stringify(manifest('20261128T120000000Z-cccccc', b)));
    expect(listBackups(repo, VM).backups.map((x) => x.manifest.id)).toEqual([a, b]);
    expect(listBackups(repo).backups.map((x) => x.manifest.id)).toEqual([a, b]);
    expect(chainOf(repo, findBackup(repo, b)).map((x) => x.manifest.id)).toEqual([a, b]);
    expect(removeStaleAll(repo)).toEqual([`${VM}/.tmp-20261128T120000000Z-cccccc`]);
    expect(existsSync(half)).toBe(false);
  });

  it('shows a published folder with a bad manifest as broken, never as a backup', () => {
    const repo = tmp();
    const id = '20261128T100000000Z-aaaaaa';
    mkdirSync(join(repo, VM, id), { recursive: true });
    writeFileSync(join(repo, VM, id, MANIFEST_FILE), '{"format":"hangar-backup"');
    const l = listBackups(repo, VM);
    expect(l.backups).toEqual([]);
    expect(l.broken).toMatchObject([{ dir: join(repo, VM, id) }]);
    expect(() => findBackup(repo, id)).toThrow(/cannot be used/);
  });

  it('refuses ids and file names that could leave their folder', () => {
    expect(() => findBackup(tmp(), '../../etc')).toThrow(/not a backup id/);
    expect(newBackupId(new Date('2026-11-28T13:45:12.345Z'))).toMatch(/^20261128T134512345Z-[0-9a-f]{6}$/);
    // Made in the same millisecond as the newest, or with the clock set back: still after it.
    const newest = '20261128T134512345Z-ffffff';
    expect(newBackupId(new Date('2026-11-28T13:45:12.345Z'), newest)).toMatch(/^20261128T134512346Z-/);
    expect(newBackupId(new Date('2020-01-01T00:00:00Z'), newest)).toMatch(/^20261128T134512346Z-/);
    for (const bad of ['../x', 'a/../b', '/abs', '-o', 'a/b/c'])
      expect(BackupFileName.safeParse(bad).success, bad).toBe(false);
    expect(BackupFileName.safeParse('cidata/user-data').success).toBe(true);
  });

  it("takes the default folder, or a folder outside Hangar's data, by its real path", () => {
    const root = tmp();
    const home = join(root, 'home');
    const outside = join(root, 'drive');
    mkdirSync(home);
    mkdirSync(outside);
    symlinkSync(outside, join(root, 'link'));
    const ctx = { home, policy: pathPolicy([home]) };
    expect(repositoryPath(ctx)).toBe(join(home, 'backups'));
    expect(repositoryPath(ctx, join(root, 'link'))).toBe(outside);
    expect(() => repositoryPath(ctx, join(home, 'vms'))).toThrow();
    mkdirSync(join(home, 'vms'));
    expect(() => repositoryPath(ctx, join(home, 'vms'))).toThrow(/Hangar's own data/);
    expect(() => repositoryPath(ctx, root)).toThrow(/Hangar's own data/);
    expect(() => repositoryPath(ctx, 'relative')).toThrow(/absolute/);
    writeFileSync(join(root, 'file'), '');
    expect(() => repositoryPath(ctx, join(root, 'file'))).toThrow(/not a folder/);
  });
});
