// What may be shared with a guest, judged on real folders and links.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pathPolicy } from '../policy/paths';
import { vm } from '../testing/fixtures';
import { checkShareFolder, recheckShare } from './folder';

const root = mkdtempSync(join(tmpdir(), 'hangar-share-'));
const home = join(root, 'user');
const data = join(home, '.local', 'share', 'hangar');
mkdirSync(data, { recursive: true });
const project = join(home, 'project');
mkdirSync(project);
writeFileSync(join(project, 'notes.txt'), 'x');
symlinkSync(project, join(home, 'link'));
const policy = pathPolicy([data]);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const userNic = { id: 'nic0', model: 'virtio' as const, mac: '52:54:00:00:00:01', mode: 'user' as const };

describe('checkShareFolder', () => {
  it('takes a folder and records its real path', () => {
    expect(checkShareFolder(policy, project)).toBe(project);
    expect(checkShareFolder(policy, join(home, 'link'))).toBe(project);
  });

  it('refuses a folder that holds Hangar’s data (the guest would reach every disk), or lies inside it', () => {
    expect(() => checkShareFolder(policy, home)).toThrow(/contains Hangar's own data/);
    expect(() => checkShareFolder(policy, '/')).toThrow(/contains Hangar's own data/);
    expect(() => checkShareFolder(policy, join(data, '..', 'hangar'))).toThrow(/inside Hangar's own data/);
  });

  it('refuses a file, a missing folder and a relative path, saying what to do', () => {
    expect(() => checkShareFolder(policy, join(project, 'notes.txt'))).toThrow(/not a folder/);
    expect(() => checkShareFolder(policy, join(root, 'gone'))).toThrow(/does not exist/);
    expect(() => checkShareFolder(policy, 'project')).toThrow(/absolute/);
  });

  it('refuses a path Samba would read as something else (a substitution, a line break)', () => {
    for (const name of ['100%', 'two\nlines', 'back\\slash', 'trailing ']) {
      const dir = join(root, name);
      mkdirSync(dir);
      expect(() => checkShareFolder(policy, dir), JSON.stringify(name)).toThrow(/Samba cannot share/);
    }
  });
});

describe('recheckShare (before each start)', () => {
  it('passes a VM that shares nothing, and one whose folder is unchanged', () => {
    expect(() => recheckShare(vm({ nics: [userNic] }), policy)).not.toThrow();
    // (smbd is there: setup installs samba.)
    expect(() =>
      recheckShare(vm({ nics: [userNic], sharedFolder: { path: project } }), policy),
    ).not.toThrow();
  });

  it('refuses a folder that has since become a link, and a VM with no NAT card to carry it', () => {
    const moved = join(root, 'moved');
    mkdirSync(moved);
    const later = join(root, 'later');
    symlinkSync(moved, later);
    expect(() => recheckShare(vm({ nics: [userNic], sharedFolder: { path: later } }), policy)).toThrow(
      /has become a link/,
    );
    expect(() => recheckShare(vm({ nics: [], sharedFolder: { path: project } }), policy)).toThrow(
      /no NAT \(user-mode\) network card/,
    );
  });
});
