// `hangar backup` as a user types it, each command a new process, against a running tiny guest:
// a live full and an incremental, list, verify (intact, then a damaged file named with exit 1),
// a restore to a new VM that boots with the data of its point in time, a second repository, and
// the errors a script sees.
import { openSync, readSync, writeSync, closeSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  BackupDrillResult,
  BackupList,
  BackupResult,
  BackupVerifyResult,
} from '../../src/shared/backup';
import { guest } from '../support/guest';
import { tempHome } from '../support/env';
import { hangar, requireBuild } from '../support/cli';

const t = tempHome('hangar-bkcli-');
const env = { ...t.env, NO_COLOR: '1', HANGAR_ACCEL: 'tcg' };
const g = guest();
const run = (...args: string[]) => hangar(env, args);
let n = 0;

/** Types a command on the guest's serial console and waits for it to finish. */
async function inGuest(vm: string, command: string): Promise<void> {
  n += 1;
  const r = await hangar(env, ['console', vm], `${command}; echo done-$((${n}+0))\n`);
  expect(r.code, r.stderr).toBe(0);
  const w = await run('wait', vm, '--serial', `done-${n}`, '--timeout', '60');
  expect(w.code, w.stderr).toBe(0);
}

async function readState(vm: string): Promise<string> {
  n += 1;
  await hangar(env, ['console', vm], `echo "state=$(cat /mnt/disk/state)-${n}"\n`);
  const w = await run('wait', vm, '--serial', `state=\\w+-${n}\\b`, '--timeout', '60', '--json');
  expect(w.code, w.stderr).toBe(0);
  return /state=(\w+)-/.exec((w.json() as { match: string }).match)![1]!;
}

async function boot(vm: string): Promise<void> {
  expect((await run('start', vm)).code).toBe(0);
  const w = await run('wait', vm, '--serial', g.manifest.readyMarker, '--timeout', '120');
  expect(w.code, w.stderr).toBe(0);
}

beforeAll(async () => {
  requireBuild();
  const c = await run(
    ...['create', '--name', 'bk', '--memory', '256', '--disk-size', '64M'],
    ...['--kernel', g.kernel, '--initrd', g.initrd, '--append', 'console=ttyS0'],
  );
  expect(c.code, c.stderr).toBe(0);
  await boot('bk');
}, 180_000);
afterAll(async () => {
  for (const vm of ['bk', 'bk-old']) await run('stop', vm, '--force');
});

describe('hangar backup', () => {
  let full: BackupResult;
  let incr: BackupResult;

  it('makes a live full, then an incremental on its chain, and lists both', async () => {
    await inGuest('bk', 'echo alpha > /mnt/disk/state; sync');
    const a = await run('backup', 'create', 'bk', '--json');
    expect(a.code, a.stderr).toBe(0);
    full = a.json() as BackupResult;
    expect(full).toMatchObject({ kind: 'full', live: true, parent: null });
    expect(full.fullReason).toBeTruthy();

    await inGuest('bk', 'echo beta > /mnt/disk/state; sync');
    const b = await run('backup', 'create', 'bk');
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(new RegExp(`incremental, .* On top of ${full.id}\\.`));
    const list = (await run('backup', 'list', 'bk', '--json')).json() as BackupList;
    expect(list.backups.map((x) => [x.kind, x.parent])).toEqual([
      ['full', null],
      ['incremental', full.id],
    ]);
    incr = list.backups[1] as unknown as BackupResult;
    const text = await run('backup', 'list');
    expect(text.stdout).toContain(`${full.id}  bk  full`);
    expect(text.stdout).toContain(`${incr.id}  bk  incremental`);
  }, 180_000);

  it('verifies the chain, and names a damaged file with exit 1', async () => {
    const ok = await run('backup', 'verify', incr.id, '--full');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/intact \(full: 2 points checked\)/);

    const fullList = (await run('backup', 'list', 'bk', '--json')).json() as BackupList;
    const file = join(fullList.backups[0]!.dir, 'disk0.qcow2');
    const fd = openSync(file, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, 70_000);
    writeSync(fd, Buffer.from([b[0]! ^ 0xff]), 0, 1, 70_000);
    closeSync(fd);
    const bad = await run('backup', 'verify', incr.id, '--json');
    expect(bad.code).toBe(1);
    const r = bad.json() as BackupVerifyResult;
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.file)).toContain(file);
    // Put it back for the restore below.
    const fd2 = openSync(file, 'r+');
    writeSync(fd2, b, 0, 1, 70_000);
    closeSync(fd2);
    expect((await run('backup', 'verify', incr.id)).code).toBe(0);
  }, 120_000);

  it('restores the full as a new VM that boots with the data of that moment', async () => {
    await inGuest('bk', 'echo gamma > /mnt/disk/state; sync');
    const r = await run('backup', 'restore', full.id, '--name', 'bk-old');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Restored backup .* as a new VM "bk-old"/);
    await boot('bk-old');
    expect(await readState('bk-old')).toBe('alpha');
    // The source is untouched.
    expect(await readState('bk')).toBe('gamma');
  }, 240_000);

  it('drills a point: it boots with no network, mounts its disk, leaves a screenshot and no VM behind', async () => {
    const drill = await run(
      ...['backup', 'verify', incr.id, '--drill', '--for', 'serial:HANGAR-DISK: mounted /dev/vda'],
      // The guest prints its NICs at boot: the drill VM has none.
      ...['--for', 'serial:HANGAR-NET: none'],
      ...['--for', `serial:${g.manifest.readyMarker}`, '--json'],
    );
    expect(drill.code, drill.stderr).toBe(0);
    const r = drill.json() as BackupDrillResult;
    expect(r).toMatchObject({ backup: incr.id, ok: true });
    expect(r.screenshot).toBe(join(t.home, 'drills', `${incr.id}.png`));
    expect(readFileSync(r.screenshot!).subarray(1, 4).toString()).toBe('PNG');
    // A guest that never says the word: exit 1, with what the console showed; nothing left over.
    const never = await run(
      'backup',
      'verify',
      full.id,
      '--drill',
      '--for',
      'serial:NEVER-SAID',
      '--timeout',
      '5',
    );
    expect(never.code).toBe(1);
    expect(never.stdout).toMatch(/did NOT boot as expected: .*serial:NEVER-SAID/s);
    // Without an agent, the drill needs to be told what "booted" means.
    const vague = await run('backup', 'verify', full.id, '--drill');
    expect(vague.code).toBe(2);
    expect(vague.stderr).toMatch(/--for serial:TEXT/);
    const names = ((await run('list', '--json')).json() as { name: string }[]).map((v) => v.name);
    expect(names.filter((n) => n.startsWith('drill'))).toEqual([]);
  }, 300_000);

  it('keeps another repository apart, and gives scripts clear errors', async () => {
    const other = join(t.files, 'usb-drive');
    const missing = await run('backup', 'create', 'bk', '--repository', other);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/does not exist\. Make the folder first/);
    mkdirSync(other);
    const c = await run('backup', 'create', 'bk', '--repository', other, '--json');
    expect(c.code, c.stderr).toBe(0);
    // A new repository holds no chain: a full, saying why.
    expect(c.json()).toMatchObject({ kind: 'full' });
    const l = (await run('backup', 'list', '--repository', other, '--json')).json() as BackupList;
    expect(l.backups.map((x) => x.id)).toEqual([(c.json() as BackupResult).id]);

    const notId = await run('backup', 'verify', 'yesterday');
    expect(notId.code).toBe(2);
    expect(notId.stderr).toMatch(/Not a backup id|is not a backup id/);
    const noName = await run('backup', 'restore', full.id);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/--name NAME/);
    const noVm = await run('backup', 'create', 'nosuch');
    expect(noVm.code).toBe(3);
    const usage = await run('backup', 'shrink');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/Use: hangar backup create VM/);
    const noPolicy = await run('backup', 'prune', 'bk');
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toMatch(/Say what to keep \(--keep-last N/);
    const before = (await run('backup', 'list', 'bk', '--json')).json() as BackupList;
    const dry = await run('backup', 'prune', 'bk', '--keep-last', '1', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    const [first, second] = before.backups.map((x) => x.id);
    expect(dry.stdout).toContain(
      `Would remove 1 backup(s): ${first}; kept 1.\n  ${first} merged into ${second} first`,
    );
    expect(((await run('backup', 'list', 'bk', '--json')).json() as BackupList).backups).toEqual(
      before.backups,
    );
    const badName = await run('backup', 'restore', full.id, '--name', 'two\nlines');
    expect(badName.code).toBe(2);
    // In place replaces the VM's disks (kept as a snapshot): never without a yes.
    const unasked = await run('backup', 'restore', full.id, '--in-place');
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toMatch(/needs --yes when not run from a terminal/);
    const both = await run('backup', 'restore', full.id, '--in-place', '--name', 'x');
    expect(both.code).toBe(2);
    // A whole VM as one file; imported into the home it came from, its points are there already.
    const tarFile = join(t.files, 'bk.hangar.tar');
    const exported = await run('backup', 'export', 'bk', tarFile);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(
      /^Wrote .*bk\.hangar\.tar \(.+\): "bk" as of backup \S+\. On the other machine: hangar backup import/,
    );
    expect((await run('backup', 'export', 'bk', tarFile)).code).toBe(4);
    expect((await run('backup', 'import', tarFile)).code).toBe(2);
    const again = await run('backup', 'import', tarFile, '--name', 'bk twin');
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/in the repository already/);
    // bk is running: refused, saying what to do.
    const running = await run('backup', 'restore', full.id, '--in-place', '--yes');
    expect(running.code).toBe(4);
    expect(running.stderr).toMatch(/"bk" is running; stop it before you restore backup/);
    expect((await run('list', '--json')).json()).toHaveLength(2);
  }, 240_000);

  it('encrypts with a passphrase file, and restores only with it', async () => {
    const repo = join(t.files, 'sealed');
    mkdirSync(repo);
    const pass = join(t.files, 'pass.txt');
    writeFileSync(pass, 'open sesame, says the script\nignored second line\n', { mode: 0o600 });
    const c = await run('backup', 'create', 'bk', '--repository', repo, '--passphrase-file', pass);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/: full, .*, encrypted, in /);
    const id = /^Backup (\S+):/.exec(c.stdout)![1]!;
    const restoreSealed = (passFile: string) =>
      run(
        'backup',
        'restore',
        id,
        '--name',
        'bk-sealed',
        '--repository',
        repo,
        '--passphrase-file',
        passFile,
      );
    expect((await run('backup', 'list', 'bk', '--repository', repo)).stdout).toContain('encrypted');
    const noKey = await run('backup', 'restore', id, '--name', 'bk-sealed', '--repository', repo);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/is encrypted: give its key \(--passphrase-file FILE/);
    const wrong = join(t.files, 'wrong.txt');
    writeFileSync(wrong, 'open sesame\n');
    const bad = await restoreSealed(wrong);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/key does not open/);
    const both = await run('backup', 'create', 'bk', '--passphrase-file', pass, '--key-file', pass);
    expect(both.stderr).toMatch(/not both/);
    const r = await restoreSealed(pass);
    expect(r.code, r.stderr).toBe(0);
    const v = await run('backup', 'verify', id, '--full', '--repository', repo, '--passphrase-file', pass);
    expect(v.code, v.stderr).toBe(0);
    expect((await run('delete', 'bk-sealed', '--yes')).code).toBe(0);
  }, 240_000);
});
