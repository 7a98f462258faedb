import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isGrantRef } from '../../../shared/requests';
import { GrantTable } from './grants';
import { pathPolicy } from './paths';

const root = mkdtempSync(join(tmpdir(), 'hangar-grants-'));
const home = join(root, 'home');
const user = join(root, 'user');
mkdirSync(join(home, 'vms', 'abcdefabcdef'), { recursive: true });
mkdirSync(user);
writeFileSync(join(home, 'vms', 'abcdefabcdef', 'disk0.qcow2'), 'x');
const iso = join(user, 'debian.iso');
writeFileSync(iso, 'x');
symlinkSync(iso, join(user, 'link.iso'));
symlinkSync(join(home, 'vms', 'abcdefabcdef', 'disk0.qcow2'), join(user, 'sneaky.img'));
const policy = pathPolicy([home, join(root, 'run')]);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('grants', () => {
  it('hands out unguessable references that resolve to the real path, for their purpose only', () => {
    const table = new GrantTable(policy);
    const ref = table.grant(join(user, 'link.iso'), 'iso');
    expect(isGrantRef(ref)).toBe(true);
    expect(table.resolve(ref, 'iso')).toMatchObject({ path: iso, purpose: 'iso', chain: null });
    // 128 random bits each: two tables never hand out the same reference.
    expect(new GrantTable(policy).grant(iso, 'iso')).not.toBe(ref);
    expect(() => table.resolve(ref, 'disk')).toThrow(/chosen as an ISO image, not as a disk image/);
  });

  it('refuses unknown and malformed references', () => {
    const table = new GrantTable(policy);
    table.grant(iso, 'iso');
    expect(() => table.resolve('grant:AAAAAAAAAAAAAAAAAAAAAA', 'iso')).toThrow(/unknown or has expired/);
    for (const bad of ['grant:', 'grant:short', iso, 'grant:AAAAAAAAAAAAAAAAAAAAAA/', ''])
      expect(() => table.resolve(bad, 'iso')).toThrow(/not a file chosen with the picker/);
  });

  it('never creates a grant for a path the policy refuses', () => {
    const table = new GrantTable(policy);
    for (const [path, message] of [
      [join(home, 'vms', 'abcdefabcdef', 'disk0.qcow2'), /Hangar's own data/],
      [join(user, 'sneaky.img'), /Hangar's own data/],
      [user, /a directory/],
      [join(user, 'missing.iso'), /does not exist/],
      ['/dev/null', /character device/],
      ['relative.iso', /must be absolute/],
    ] as const)
      expect(() => table.grant(path, 'disk')).toThrow(message);
    expect(table.size).toBe(0);
  });

  it('expires a grant some time after its last use', () => {
    const c = clock();
    const table = new GrantTable(policy, { ttlMs: 1000, now: c.now });
    const ref = table.grant(iso, 'iso');
    c.t += 900;
    table.resolve(ref, 'iso'); // a use keeps it alive
    c.t += 900;
    expect(table.resolve(ref, 'iso').path).toBe(iso);
    c.t += 1000;
    expect(() => table.resolve(ref, 'iso')).toThrow(/unknown or has expired/);
    expect(table.size).toBe(0);
  });

  it('holds a bounded number of grants and drops the least recently used first', () => {
    const table = new GrantTable(policy, { max: 3 });
    const refs = ['a', 'b', 'c', 'd'].map((n) => {
      const f = join(user, `${n}.iso`);
      writeFileSync(f, n);
      return table.grant(f, 'iso');
    });
    expect(table.size).toBe(3);
    expect(() => table.resolve(refs[0]!, 'iso')).toThrow(/unknown or has expired/);
    table.resolve(refs[1]!, 'iso'); // now the most recently used
    const e = join(user, 'e.iso');
    writeFileSync(e, 'e');
    table.grant(e, 'iso');
    expect(table.resolve(refs[1]!, 'iso').path).toBe(join(user, 'b.iso'));
    expect(() => table.resolve(refs[2]!, 'iso')).toThrow(/unknown or has expired/);
  });

  it('gives the same file chosen again for the same use its existing reference', () => {
    const table = new GrantTable(policy);
    const a = table.grant(iso, 'iso');
    expect(table.grant(join(user, 'link.iso'), 'iso')).toBe(a);
    expect(table.grant(iso, 'kernel')).not.toBe(a);
    expect(table.size).toBe(2);
  });

  it('keeps the backing chain the user confirmed with a disk grant', () => {
    const table = new GrantTable(policy);
    const base = join(user, 'base.img');
    writeFileSync(base, 'b');
    const ref = table.grant(iso, 'disk', [base]);
    expect(table.resolve(ref, 'disk').chain).toEqual([base]);
    expect(table.grant(iso, 'disk')).not.toBe(ref);
  });

  it('refuses a granted file whose path has since been made to lead elsewhere', () => {
    const table = new GrantTable(policy);
    const f = join(user, 'moving.iso');
    writeFileSync(f, 'x');
    const ref = table.grant(f, 'iso');
    renameSync(f, join(user, 'moved.iso'));
    symlinkSync(join(home, 'vms', 'abcdefabcdef', 'disk0.qcow2'), f);
    expect(() => table.resolve(ref, 'iso')).toThrow(/Hangar's own data/);
    rmSync(f);
    symlinkSync(join(user, 'moved.iso'), f);
    expect(() => table.resolve(ref, 'iso')).toThrow(/has become a link/);
  });
});
