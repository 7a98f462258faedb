import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { HangarError } from '../../../shared/errors';
import { Virsh, validateDomainXml } from './virsh';

const hasVirsh = (() => {
  try {
    execFileSync('virsh', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasVirsh) console.warn('real-virsh check skipped: sudo apt-get install libvirt-clients');

const dir = mkdtempSync(join(tmpdir(), 'hangar-virsh-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in virsh: records its argv one per line, prints `stderr` and exits with `code`. */
function fakeVirsh(name: string, stderr: string, code: number, stdout = ''): string {
  const bin = join(dir, name);
  writeFileSync(
    bin,
    `#!/bin/sh\nprintf '%s\\n' "$@" > ${join(dir, `${name}.args`)}\nprintf '%s' '${stdout}'\nprintf '%s\\n' '${stderr}' >&2\nexit ${code}\n`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

async function failure(p: Promise<unknown>): Promise<HangarError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HangarError);
  return err as HangarError;
}

describe('virsh runner', () => {
  it('passes names as single arguments, never through a shell', async () => {
    const bin = fakeVirsh('ok', '', 0, 'running');
    const virsh = new Virsh({ bin, uri: 'qemu:///system' });
    const evil = '-x; rm -rf / $(touch pwned) `id`';
    expect(await virsh.domstate(evil)).toBe('running');
    const args = readFileSync(join(dir, 'ok.args'), 'utf8').split('\n');
    expect(args.slice(0, 6)).toEqual(['-q', '-c', 'qemu:///system', 'domstate', '--', evil]);
  });

  it('says what to install when virsh is missing', async () => {
    const err = await failure(new Virsh({ bin: join(dir, 'no-such-virsh') }).list());
    expect(err.code).toBe('UNSUPPORTED');
    expect(err.message).toMatch(/apt-get install libvirt-clients/);
  });

  it('says what to start when libvirtd is not reachable', async () => {
    const bin = fakeVirsh(
      'down',
      "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory",
      1,
    );
    const err = await failure(new Virsh({ bin }).list());
    expect(err.message).toMatch(/not reachable at qemu:\/\/\/system/);
    expect(err.message).toMatch(/libvirtd -d/);
    expect(err.message).toMatch(/libvirt-daemon-system/);
  });

  it('reports an unknown domain as not found, and other failures with virsh’s words', async () => {
    const gone = fakeVirsh('gone', "error: failed to get domain 'x'", 1);
    expect((await failure(new Virsh({ bin: gone }).start('x'))).code).toBe('NOT_FOUND');
    const bad = fakeVirsh('bad', 'error: internal error: something broke', 1);
    const err = await failure(new Virsh({ bin: bad }).snapshotRevert('x', 's1'));
    expect(err.code).toBe('QEMU_FAILED');
    expect(err.message).toMatch(/snapshot-revert .*something broke/);
  });

  it('reports a validator that is missing', async () => {
    const err = await failure(validateDomainXml('<domain/>', join(dir, 'no-validator')));
    expect(err.message).toMatch(/libvirt-clients/);
  });

  // libvirt's test driver runs inside virsh itself: no daemon, nothing started.
  it.skipIf(!hasVirsh)('talks to a real virsh (the test:///default driver)', async () => {
    const virsh = new Virsh({ uri: 'test:///default' });
    expect(await virsh.list()).toEqual(['test']);
    expect(await virsh.domstate('test')).toBe('running');
    expect((await virsh.version()).library).toMatch(/^\d+\.\d+/);
    expect((await failure(virsh.domstate('absent'))).code).toBe('NOT_FOUND');
  });
});
