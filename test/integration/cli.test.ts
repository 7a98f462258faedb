// The `hangar` command as scripts use it: exit codes, --json, hostile names, the serial console,
// and the thin-client mode through a running `hangar serve`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { guest } from '../support/guest';
import { tempHome } from '../support/env';
import { bin, hangar, requireBuild } from '../support/cli';

const t = tempHome();
const g = guest();
const env = { ...t.env, NO_COLOR: '1' };
const weird = 'demo, "q" ünï 🚀';

beforeAll(() => requireBuild());
afterAll(async () => {
  await hangar(env, ['stop', weird, '--force']);
  t.cleanup();
});

describe('hangar CLI', () => {
  it('prints help and refuses unknown commands and options with exit code 2', async () => {
    expect((await hangar(env, ['--help'])).code).toBe(0);
    const unknown = await hangar(env, ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    expect((await hangar(env, ['list', '--bogus'])).code).toBe(2);
  });

  it('rejects bad sizes, memory and names with exit code 2 and creates nothing', async () => {
    for (const args of [
      ['--disk-size', '0'],
      ['--disk-size', '-5G'],
      ['--disk-size', '99999T'],
      ['--memory', 'lots'],
      ['--name', 'two\nlines'],
      ['--forward', 'tcp:99999:22', '--no-disk'],
      ['--forward', 'tcp:2222:22', '--no-network'],
    ]) {
      const r = await hangar(env, ['create', '--name', 'x', ...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect((r.json() as { error: { code: string } }).error.code).toBe('INVALID_INPUT');
    }
    expect((await hangar(env, ['list', '--json'])).json()).toEqual([]);
  });

  it('says a missing ISO is not found (exit 3)', async () => {
    const r = await hangar(env, ['create', '--name', 'x', '--iso', '/no/such.iso']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/\/no\/such\.iso does not exist/);
  });

  it('refuses install media that is not ISO 9660 or UDF, saying what the file looks like (exit 2)', async () => {
    // /etc/passwd once made a VM that sat at "No bootable device" while its card said Running.
    const text = await hangar(env, ['create', '--name', 'x', '--iso', '/etc/passwd']);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(
      /\/etc\/passwd is not install media \(ISO 9660 or UDF\): it looks like raw data/,
    );
    const qcow2 = join(t.files, 'disk.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow2, '8M']);
    const disk = await hangar(env, ['create', '--name', 'x', '--iso', qcow2]);
    expect(disk.code).toBe(2);
    expect(disk.stderr).toMatch(/looks like a qcow2 image\. Use it as a disk instead/);
    expect((await hangar(env, ['list', '--json'])).json()).toEqual([]);
  });

  it('runs the README example: create, start, wait, snapshot, change, revert, delete', async () => {
    const created = await hangar(env, [
      'create',
      `--name=${weird}`,
      '--iso',
      g.iso,
      '--memory',
      '256',
      '--disk-size',
      '1G',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const id = (created.json() as { id: string }).id;
    expect(((await hangar(env, ['list', '--json'])).json() as { name: string }[])[0]!.name).toBe(weird);
    expect((await hangar(env, ['start', weird])).code).toBe(0);
    expect((await hangar(env, ['start', weird])).code).toBe(4); // already running
    expect(
      (await hangar(env, ['wait', weird, '--serial', 'HANGAR-GUEST-READY', '--timeout', '120'])).code,
    ).toBe(0);
    await hangar(env, ['console', id], 'echo v1 > /mnt/disk/state; sync\n');
    expect((await hangar(env, ['snapshot', 'create', id, 'v1'])).code).toBe(0);
    const changed = await hangar(
      env,
      ['console', id],
      'echo v2 > /mnt/disk/state; sync; cat /mnt/disk/state\n',
    );
    expect(changed.stdout).toMatch(/^v2\r?$/m);
    expect((await hangar(env, ['snapshot', 'revert', id, 'v1'])).code).toBe(0);
    const back = await hangar(env, ['console', id], 'cat /mnt/disk/state\n');
    expect(back.stdout).toMatch(/^v1\r?$/m);
    const shot = join(t.home, 'screen.png');
    expect((await hangar(env, ['screenshot', id, shot])).code).toBe(0);
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    const monitor = await hangar(env, ['monitor', id, 'info', 'status']);
    expect(monitor.stdout).toMatch(/VM status: running/);
    expect((await hangar(env, ['monitor', id, 'migrate', 'exec:true'])).code).toBe(2);
    expect((await hangar(env, ['wait', id, '--serial', 'never-printed', '--timeout', '1'])).code).toBe(6);
    expect((await hangar(env, ['stop', id])).stdout).toMatch(/stopped/);
    expect((await hangar(env, ['delete', id])).code).toBe(2); // no terminal, no --yes
    const del = await hangar(env, ['delete', id, '--yes', '--json']);
    expect((del.json() as { kept: string[] }).kept).toEqual([g.iso]);
    expect((await hangar(env, ['info', id])).code).toBe(3);
  });

  it('powers the guest off with send-keys ctrl-alt-delete', async () => {
    const r = await hangar(env, [
      'create',
      '--name',
      'keys',
      '--memory',
      '256',
      '--disk-size',
      '16M',
      '--kernel',
      g.kernel,
      '--initrd',
      g.initrd,
      '--append',
      g.manifest.directCmdline,
      '--json',
    ]);
    const id = (r.json() as { id: string }).id;
    await hangar(env, ['start', id]);
    await hangar(env, ['wait', id, '--serial', 'hangar-guest# ', '--timeout', '60']);
    expect((await hangar(env, ['send-keys', id, 'ctrl-alt-delete'])).code).toBe(0);
    const deadline = Date.now() + 30_000;
    let state = '';
    while (Date.now() < deadline && state !== 'stopped') {
      state = ((await hangar(env, ['info', id, '--json'])).json() as { state: { state: string } }).state
        .state;
    }
    expect(state).toBe('stopped');
    expect((await hangar(env, ['send-keys', id, 'not a key'])).code).toBe(2);
  });

  it('drives rollback: baseline and reset, disposable start, template and linked clone, disk-only snapshot', async () => {
    const boot = [
      '--memory',
      '256',
      '--disk-size',
      '16M',
      '--kernel',
      g.kernel,
      '--initrd',
      g.initrd,
      '--append',
      g.manifest.directCmdline,
    ];
    expect((await hangar(env, ['create', '--name', 'rb', ...boot])).code).toBe(0);
    expect((await hangar(env, ['baseline', 'set', 'rb'])).stdout).toMatch(/Baseline set/);
    expect((await hangar(env, ['start', 'rb', '--json'])).code).toBe(0);
    const reset = (await hangar(env, ['reset-to-baseline', 'rb', '--json'])).json() as {
      ms: number;
      config: { baseline: object };
    };
    expect(reset.config.baseline).toBeTruthy();
    expect(reset.ms).toBeGreaterThan(0);
    const snap = (
      await hangar(env, ['snapshot', 'create', 'rb', 'disks', '--disk-only', '--json'])
    ).json() as { vmState: boolean; consistency: string };
    expect(snap).toMatchObject({ vmState: false, consistency: 'crash' });
    expect((await hangar(env, ['snapshot', 'rename', 'rb', 'disks', 'renamed'])).code).toBe(0);
    expect((await hangar(env, ['stop', 'rb', '--force'])).code).toBe(0);
    expect((await hangar(env, ['baseline', 'clear', 'rb'])).code).toBe(4); // snapshots live in the overlay

    expect((await hangar(env, ['create', '--name', 'tpl', ...boot])).code).toBe(0);
    const disposable = (await hangar(env, ['start', 'tpl', '--disposable', '--json'])).json() as {
      disposable: boolean;
    };
    expect(disposable.disposable).toBe(true);
    expect((await hangar(env, ['stop', 'tpl', '--force'])).code).toBe(0);
    expect((await hangar(env, ['template', 'set', 'tpl'])).code).toBe(0);
    expect((await hangar(env, ['start', 'tpl'])).code).toBe(4);
    const clone = (await hangar(env, ['clone', 'tpl', 'child', '--linked', '--json'])).json() as {
      linkedTo: string;
    };
    expect(clone.linkedTo).toBeTruthy();
    expect((await hangar(env, ['delete', 'tpl', '--yes'])).stderr).toMatch(/child/);
    expect((await hangar(env, ['make-independent', 'child'])).code).toBe(0);
    expect((await hangar(env, ['delete', 'tpl', '--yes'])).code).toBe(0);
  });

  it('manages disk images', async () => {
    const img = join(t.files, 'a disk, "x".qcow2');
    expect((await hangar(env, ['disk', 'create', img, '1G'])).code).toBe(0);
    expect(
      ((await hangar(env, ['disk', 'info', img, '--json'])).json() as { virtualSize: number }).virtualSize,
    ).toBe(2 ** 30);
    expect((await hangar(env, ['disk', 'resize', img, '512M'])).code).toBe(2);
    expect((await hangar(env, ['disk', 'resize', img, '2G'])).code).toBe(0);
    expect((await hangar(env, ['disk', 'create', img, '1G'])).code).toBe(4); // exists
  });

  it('acts as a thin client of a running `hangar serve`', async () => {
    const server: ChildProcess = spawn(process.execPath, [bin, 'serve'], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.stdout!.on('data', (d: Buffer) => d.toString().includes('http://127.0.0.1:') && resolve());
        server.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
      });
      const r = await hangar(env, [
        'create',
        '--name',
        'via-serve',
        '--no-disk',
        '--kernel',
        g.kernel,
        '--initrd',
        g.initrd,
        '--json',
      ]);
      expect(r.code).toBe(0);
      expect((await hangar(env, ['start', 'via-serve'])).code).toBe(0);
      // The QEMU's QMP belongs to the serve process; the CLI can only have reached it through serve.
      const info = (await hangar(env, ['info', 'via-serve', '--json'])).json() as {
        state: { state: string; pid: number };
      };
      expect(info.state.state).toBe('running');
      expect((await hangar(env, ['stop', 'via-serve', '--force'])).code).toBe(0);
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
  });
});
