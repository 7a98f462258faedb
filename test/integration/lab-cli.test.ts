// `hangar lab` as a script uses it: each command a new process with an engine of its own, so the
// lab's switch (detached) is found again by every command; events as JSON lines with --json.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guest } from '../support/guest';
import { tempHome } from '../support/env';
import { hangar, requireBuild } from '../support/cli';

const t = tempHome('hangar-labcli-');
const g = guest();
const env = { ...t.env, NO_COLOR: '1' };
const file = join(t.files, 'hangar.lab.yaml');

beforeAll(async () => {
  requireBuild();
  const boot = ['--memory', '256', '--disk-size', '16M', '--kernel', g.kernel, '--initrd', g.initrd];
  expect(
    (await hangar(env, ['create', '--name', 'tiny', ...boot, '--append', g.manifest.directCmdline])).code,
  ).toBe(0);
  expect((await hangar(env, ['template', 'set', 'tiny'])).code).toBe(0);
  writeFileSync(
    file,
    [
      'version: 1',
      'name: cli',
      'networks:',
      '  net: { subnet: 192.168.77.0/24 }',
      'vms:',
      '  web:',
      '    template: tiny',
      '    nics: [{ network: net }]',
      "    ready: ['serial:HANGAR-GUEST-READY']",
      '',
    ].join('\n'),
  );
}, 120_000);

afterAll(async () => {
  await hangar(env, ['lab', 'destroy', 'cli', '--yes']);
  t.cleanup();
});

describe('hangar lab', () => {
  it('plans, comes up with events as JSON lines, and shows its status from another process', async () => {
    const plan = await hangar(env, ['lab', 'plan', file]);
    expect(plan.stdout).toMatch(/create\s+web\s+\(cli-web: new\)/);
    const up = await hangar(env, ['lab', 'up', file, '--wait', '--json']);
    expect(up.code).toBe(0);
    const events = up.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"event"'))
      .map((l) => JSON.parse(l) as { vm: string | null; phase: string });
    expect(events.filter((e) => e.vm === 'web').map((e) => e.phase)).toEqual(
      expect.arrayContaining(['creating', 'created', 'starting', 'ready']),
    );
    const status = await hangar(env, ['lab', 'status', 'cli']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/web\s+running\s+cli-web\s+web\.cli\.internal 192\.168\.77\.10/);
    expect(status.stdout).toMatch(/switch pid \d+: net \(1 port\)/);
    const exec = await hangar(env, ['lab', 'exec', 'cli', 'web', '--', 'true']);
    // The tiny guest has no agent: the error says so, and the exit code is not 0.
    expect(exec.code).not.toBe(0);
  }, 300_000);

  it('waits for the lab, takes its baseline, and names the lab VM for ssh', async () => {
    const wait = await hangar(env, ['lab', 'wait', 'cli', '--timeout', '120']);
    expect(wait.code).toBe(0);
    expect(wait.stdout).toMatch(/web\s+running/);
    const base = await hangar(env, ['lab', 'baseline', 'cli']);
    expect(base.code).toBe(0);
    expect(base.stdout).toMatch(/baseline: \d{4}-/);
    // The tiny guest has no ssh forward: lab ssh found the VM (cli-web) and says what is missing.
    const ssh = await hangar(env, ['lab', 'ssh', 'cli', 'web']);
    expect(ssh.code).not.toBe(0);
    expect(ssh.stderr).toMatch(/"cli-web" has no port forward to guest port 22/);
    const nope = await hangar(env, ['lab', 'ssh', 'cli', 'nope']);
    expect(nope.stderr).toMatch(/Lab "cli" has no VM "nope" \(its VMs: web\)/);
  }, 300_000);

  it('refuses a broken file with its line and column, and creates nothing', async () => {
    const bad = join(t.files, 'bad.lab.yaml');
    writeFileSync(bad, 'version: 1\nname: cli\nvms:\n  web: { template: tiny, cpus: many }\n');
    const r = await hangar(env, ['lab', 'up', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.lab\.yaml:4:\d+: vms\.web\.cpus/);
  });

  it('destroys the lab from yet another process', async () => {
    const r = await hangar(env, ['lab', 'destroy', 'cli', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/deleted cli-web/);
    expect((await hangar(env, ['list'])).stdout).not.toMatch(/cli-web/);
    expect((await hangar(env, ['lab', 'status', 'cli'])).code).not.toBe(0);
  }, 120_000);

  it('cleans up a disposable lab whose up failed half way, and exits non-zero', async () => {
    const broken = join(t.files, 'broken.lab.yaml');
    writeFileSync(
      broken,
      'version: 1\nname: half\nvms:\n  a: { template: tiny }\n  b: { template: no-such-template }\n',
    );
    const r = await hangar(env, ['lab', 'run', broken, '--disposable', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-template/);
    expect(r.stderr).toMatch(/lab half: destroyed/);
    expect((await hangar(env, ['list'])).stdout).not.toMatch(/half-a/);
  }, 120_000);

  it('runs a command against a disposable lab for CI: its environment, its exit code, the logs kept', async () => {
    const logs = join(t.files, 'logs');
    const script = 'test "$HANGAR_LAB" = cli && test "$HANGAR_LAB_WEB_IP" = 192.168.77.10 && exit 7';
    const r = await hangar(env, [
      'lab',
      'run',
      file,
      '--disposable',
      '--logs',
      logs,
      '--',
      'sh',
      '-c',
      script,
    ]);
    expect(r.code).toBe(7);
    expect(readFileSync(join(logs, 'cli', 'web', 'serial.log'), 'utf8')).toContain('HANGAR-GUEST-READY');
    expect(r.stderr).toMatch(/lab cli: destroyed/);
    expect((await hangar(env, ['list'])).stdout).not.toMatch(/cli-web/);
    expect((await hangar(env, ['lab', 'list'])).stdout).toMatch(/No labs/);
  }, 300_000);
});
