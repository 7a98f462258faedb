// `hangar export --libvirt` and `hangar import --libvirt` as a user types them, each a new process:
// the XML to stdout and to a file (never over an existing one), checked with libvirt's own
// validator where it is installed, imported back into a VM with the same settings, and the
// errors a script sees. The round trip through a real libvirtd is test/integration/libvirt.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { VmConfig } from '../../src/shared/vm';
import { guest } from '../support/guest';
import { tempHome } from '../support/env';
import { hangar, requireBuild } from '../support/cli';

const t = tempHome('hangar-lvcli-');
const env = { ...t.env, NO_COLOR: '1', HANGAR_ACCEL: 'tcg' };
const g = guest();
const run = (...args: string[]) => hangar(env, args);
const haveValidator = spawnSync('virt-xml-validate', ['--help']).error === undefined;
let vm: VmConfig;

beforeAll(async () => {
  requireBuild();
  // The user's own disk, outside Hangar's data: a VM of another tool uses its disks in place.
  const disk = join(t.files, 'web.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
  const c = await run(
    ...['create', '--name', 'web <&> "one"', '--memory', '384', '--cpus', '2', '--disk', disk],
    ...['--kernel', g.kernel, '--initrd', g.initrd, '--append', 'console=ttyS0 quiet'],
    ...['--forward', 'tcp:18088:80', '--json'],
  );
  expect(c.code, c.stderr).toBe(0);
  vm = c.json() as VmConfig;
});

describe('hangar export and import --libvirt', () => {
  it('writes the domain XML to stdout and to a file, listing what it cannot carry', async () => {
    const out = await run('export', vm.id, '--libvirt', '--domain-type', 'qemu', '--network', 'default');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^<domain type="qemu"|^<domain[^>]*type=.qemu/);
    // The name is escaped, never spliced into the markup.
    expect(out.stdout).toContain('web &lt;&amp;&gt; &quot;one&quot;');
    expect(out.stdout).toMatch(/<source network=.default.\/>/);
    // On a libvirt network the forward cannot go along, and says so.
    expect(out.stderr).toMatch(/Not carried over:\n {2}- .*18088/);

    const file = join(t.files, 'web.xml');
    const w = await run('export', 'web <&> "one"', '--libvirt', file, '--domain-type', 'qemu');
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toMatch(new RegExp(`Wrote domain ".*" \\(uuid [0-9a-f-]{36}\\) to ${file}`));
    if (haveValidator) {
      const v = spawnSync('virt-xml-validate', [file, 'domain'], { encoding: 'utf8' });
      expect(v.status, v.stderr + v.stdout).toBe(0);
    }
    const written = readFileSync(file, 'utf8');
    expect(written).toMatch(/<domain[^>]*type=.qemu/);
    const again = await run('export', vm.id, '--libvirt', file, '--domain-type', 'kvm');
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/exists already; Hangar does not overwrite it/);
    expect(readFileSync(file, 'utf8')).toBe(written);
  });

  it('imports the file back into a VM with the same settings, the disk used in place', async () => {
    const file = join(t.files, 'web.xml');
    const r = await run('import', '--libvirt', file, '--name', 'web again', '--json');
    expect(r.code, r.stderr).toBe(0);
    const back = (r.json() as { vm: VmConfig; dropped: string[] }).vm;
    expect(back).toMatchObject({
      name: 'web again',
      memoryMiB: 384,
      cpus: 2,
      directBoot: vm.directBoot,
    });
    expect(back.id).not.toBe(vm.id);
    expect(back.disks[0]).toMatchObject({ owned: false, format: 'qcow2', path: join(t.files, 'web.qcow2') });
    const text = await run('import', '--libvirt', file, '--copy-disk', '--name', 'web copy');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Imported "web copy" \([a-z0-9]{12}\): 2 CPU, 384 MiB, 1 disk\(s\)\./);
  });

  it('gives scripts clear errors for bad input, and loses nothing', async () => {
    // A domain naming a disk inside Hangar's own data (another VM's) is refused, as --disk is.
    const own = await run('create', '--name', 'owned', '--disk-size', '16M', '--json');
    const ownXml = join(t.files, 'owned.xml');
    expect((await run('export', 'owned', '--libvirt', ownXml)).code).toBe(0);
    const before = ((await run('list', '--json')).json() as unknown[]).length;
    const inside = await run('import', '--libvirt', ownXml);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/inside Hangar's own data/);
    expect(own.code).toBe(0);
    const usage = await run('import', '--libvirt');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Use: hangar import --libvirt FILE.xml/);
    const both = await run(
      'import',
      '--libvirt',
      '/etc/hostname',
      '--from',
      'qemu:///system',
      '--domain',
      'x',
    );
    expect(both.code).toBe(2);
    const badUri = await run('import', '--from', 'qemu:///system; rm -rf /', '--domain', 'x');
    expect(badUri.code).toBe(2);
    expect(badUri.stderr).toMatch(/Not a libvirt URI/);
    const hostile = join(t.files, 'hostile.xml');
    writeFileSync(hostile, '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/shadow">]><domain>&x;</domain>');
    const h = await run('import', '--libvirt', hostile);
    expect(h.code).not.toBe(0);
    expect(h.stderr).not.toMatch(/root:/);
    const notXml = await run('import', '--libvirt', '/etc/hostname');
    expect(notXml.code).not.toBe(0);
    expect(notXml.stderr).toMatch(/^hangar: /);
    const noFlag = await run('export', vm.id);
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toMatch(/--libvirt/);
    const badType = await run('export', vm.id, '--libvirt', '--domain-type', 'xen');
    expect(badType.code).toBe(2);
    expect(((await run('list', '--json')).json() as unknown[]).length).toBe(before);
  });
});
