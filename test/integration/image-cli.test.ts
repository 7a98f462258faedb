// `hangar image` and `hangar os` as a user types them, each a new process: add and list, a VM
// from a library image with --image, an OS variant's defaults, rm refused while in use, verify,
// and the errors a script sees (exit codes, --json).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { guest } from '../support/guest';
import { tempHome } from '../support/env';
import { hangar, requireBuild } from '../support/cli';

const t = tempHome('hangar-imgcli-');
const env = { ...t.env, NO_COLOR: '1' };
const vdi = join(t.files, 'tiny.vdi');

beforeAll(() => {
  requireBuild();
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vdi', guest().iso, vdi]);
});
afterAll(() => t.cleanup());

describe('hangar image and hangar os', () => {
  let id = '';

  it('adds a vdi (converted and compared), lists it, and makes a linked clone with --image', async () => {
    const add = await hangar(env, ['image', 'add', vdi, '--name', 'tiny', '--json']);
    expect(add.code).toBe(0);
    const meta = JSON.parse(add.stdout) as { id: string; format: string; source: { originalFormat: string } };
    expect(meta).toMatchObject({ format: 'qcow2', source: { originalFormat: 'vdi' } });
    id = meta.id;
    const list = await hangar(env, ['image', 'list']);
    expect(list.stdout).toContain(`${id.slice(0, 12)}  tiny  qcow2`);
    const create = await hangar(env, [
      'create',
      '--name',
      'on-tiny',
      '--image',
      'tiny',
      '--os-variant',
      'debian11',
      '--no-network',
      '--json',
    ]);
    expect(create.code).toBe(0);
    // osinfo's recommendation for Debian 11 (1 GiB), within half this host's memory.
    const vm = JSON.parse(create.stdout) as {
      memoryMiB: number;
      osType: string;
      disks: { owned: boolean }[];
    };
    expect(vm.osType).toBe('linux');
    expect(vm.memoryMiB).toBeGreaterThan(0);
    expect(vm.memoryMiB).toBeLessThanOrEqual(1024);
    expect(vm.disks[0]!.owned).toBe(true);
    expect((await hangar(env, ['image', 'list'])).stdout).toContain('used by on-tiny');
  });

  it('refuses to remove an image in use (exit 4, naming the VM), then removes it once unused', async () => {
    const rm = await hangar(env, ['image', 'rm', 'tiny']);
    expect(rm.code).toBe(4);
    expect(rm.stderr).toMatch(/used by on-tiny/);
    expect((await hangar(env, ['delete', 'on-tiny', '--yes'])).code).toBe(0);
    expect((await hangar(env, ['image', 'verify'])).stdout).toMatch(/^ok\s+/);
    const gone = await hangar(env, ['image', 'rm', id.slice(0, 8)]);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toContain('Removed tiny');
    expect((await hangar(env, ['image', 'rm', 'tiny'])).code).toBe(3);
  });

  it('searches and shows OSes from osinfo-db, and refuses an unknown variant with exit 2', async () => {
    const search = await hangar(env, ['os', 'search', 'debian']);
    expect(search.stdout).toMatch(/^debian11\s+Debian 11$/m);
    const show = await hangar(env, ['os', 'show', 'win10']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/family winnt/);
    expect(show.stdout).toMatch(/virtio: no/);
    expect((await hangar(env, ['os', 'show', 'nosuchos'])).code).toBe(3);
    const bad = await hangar(env, ['create', '--name', 'x', '--os-variant', 'nosuchos', '--no-disk']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/hangar os search/);
    const both = await hangar(env, ['create', '--name', 'x', '--os', 'linux', '--os-variant', 'debian11']);
    expect(both.code).toBe(2);
  });

  it('lists the catalog and says what is wrong with a bad pull or a missing file', async () => {
    const cat = await hangar(env, ['image', 'catalog']);
    expect(cat.stdout).toMatch(/^debian-12\s+cloud/m);
    const pull = await hangar(env, ['image', 'pull', 'no-such', '--json']);
    expect(pull.code).toBe(3);
    expect(JSON.parse(pull.stdout)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const missing = await hangar(env, ['image', 'add', join(t.files, 'nothing.qcow2')]);
    expect(missing.code).toBe(3);
  });
});
