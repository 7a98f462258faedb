import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Ctx } from './commands';
import { lab } from './lab';

const dir = mkdtempSync(join(tmpdir(), 'hangar-lab-cli-'));
afterEach(() => vi.restoreAllMocks());

function run(args: string[], json = false) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  vi.spyOn(console, 'error').mockImplementation((s: string) => void err.push(s));
  const ctx = {
    args,
    values: {},
    json,
    env: {},
    api: () => Promise.reject(new Error('lab validate must not start an engine')),
    print: (data: unknown, text: string) => console.log(json ? JSON.stringify(data) : text),
  } as unknown as Ctx;
  return lab(ctx).then((code) => ({ code, out: out.join('\n'), err: err.join('\n') }));
}

describe('hangar lab validate', () => {
  it('shows the example lab with its addresses, without an engine', async () => {
    const r = await run(['validate', join(__dirname, '../../../examples/web-lab/hangar.lab.yaml')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^lab web: 4 VMs, 1 network, baseline when all are ready/);
    expect(r.out).toMatch(
      /client-tiny {2}template tiny {2}1 CPU, 256 MiB {2}backend 10\.10\.0\.\d+ 52:54:00:/,
    );
    expect(r.out).toContain('db  template debian-12  1 CPU, 1024 MiB  backend 10.10.0.5');
  });

  it('prints each error as FILE:LINE:COLUMN: key: message and exits 2', async () => {
    const file = join(dir, 'bad.lab.yaml');
    writeFileSync(file, 'version: 1\nname: x\nvms:\n  a:\n    template: t\n    cpu: 2\n');
    const r = await run(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${file}:6:5: vms.a.cpu: unknown key "cpu"`);
    expect(r.err).toContain('1 error; nothing was created.');
  });

  it('refuses what is not a lab file before reading it', async () => {
    await expect(run(['validate', join(dir, 'missing.yaml')])).rejects.toThrow(/No lab file/);
    await expect(run(['validate', dir])).rejects.toThrow(/not a regular file/);
    await expect(run(['fly', 'x'])).rejects.toThrow(/Unknown lab command "fly": validate, plan, up/);
  });
});

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
