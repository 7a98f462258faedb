import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHostPath, pathPolicy, recheckRecorded } from './paths';

const root = mkdtempSync(join(tmpdir(), 'hangar-policy-'));
const home = join(root, 'home');
const user = join(root, 'user');
mkdirSync(join(home, 'vms', 'abcdefabcdef'), { recursive: true });
mkdirSync(user);
writeFileSync(join(home, 'vms', 'abcdefabcdef', 'disk0.qcow2'), 'x');
writeFileSync(join(user, 'disk.img'), 'x');
symlinkSync(join(user, 'disk.img'), join(user, 'link.img'));
symlinkSync(join(home, 'vms', 'abcdefabcdef', 'disk0.qcow2'), join(user, 'sneaky.img'));
symlinkSync(join(user, 'loop-b'), join(user, 'loop-a'));
symlinkSync(join(user, 'loop-a'), join(user, 'loop-b'));
execFileSync('mkfifo', [join(user, 'fifo')]);
const policy = pathPolicy([home, join(root, 'run')]);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the host-path policy', () => {
  it('accepts a regular file and returns its real path', () => {
    expect(checkHostPath(policy, join(user, 'disk.img'), 'disk image')).toEqual({
      path: join(user, 'disk.img'),
      blockDevice: false,
    });
    expect(checkHostPath(policy, join(user, 'link.img'), 'ISO image').path).toBe(join(user, 'disk.img'));
    expect(checkHostPath(policy, `${user}/./../user//disk.img`, 'kernel').path).toBe(join(user, 'disk.img'));
  });

  it.each([
    ['another VM’s disk', join(home, 'vms', 'abcdefabcdef', 'disk0.qcow2'), /Hangar's own data/],
    ['a symlink into Hangar’s data', join(user, 'sneaky.img'), /really .*Hangar's own data/],
    ['.. into Hangar’s data', `${user}/../home/vms/abcdefabcdef/disk0.qcow2`, /Hangar's own data/],
    ['Hangar’s home itself', home, /Hangar's own data/],
    ['a directory', user, /a directory/],
    ['a FIFO', join(user, 'fifo'), /named pipe/],
    ['a character device', '/dev/null', /character device/],
    ['a missing file', join(user, 'nope.img'), /does not exist/],
    ['a symlink loop', join(user, 'loop-a'), /loop of symbolic links/],
    ['a relative path', 'disk.img', /must be absolute/],
  ])('refuses %s', (_what, path, message) => {
    expect(() => checkHostPath(policy, path, 'disk image')).toThrow(message);
  });

  it('notices a recorded file that has become a symlink since', () => {
    const f = join(user, 'later.img');
    writeFileSync(f, 'x');
    expect(() => recheckRecorded(policy, f, 'disk image')).not.toThrow();
    rmSync(f);
    symlinkSync(join(user, 'disk.img'), f);
    expect(() => recheckRecorded(policy, f, 'disk image')).toThrow(/has become a link/);
  });
});
