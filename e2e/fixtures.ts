// A real Hangar for each test file: `hangar serve` on a throwaway home, TCG, reached by the
// browser through the URL it prints. The CLI, with the same environment, is the test's way to
// check the engine from outside the UI.
import { test as base } from '@playwright/test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findServeUrl } from '../test/support/serve-url';
import { seedDemoCache } from '../test/support/guest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'hangar.js');

export interface Hangar {
  url: string;
  env: NodeJS.ProcessEnv;
  home: string;
  /** Runs the CLI with --json and returns its parsed output. */
  cli(args: string[]): { code: number; json: unknown; stderr: string };
}

export const guestDir = join(root, '.cache', 'guest');
export const guestIso = join(guestDir, 'hangar-test.iso');
export const readyMarker = JSON.parse(readFileSync(join(guestDir, 'manifest.json'), 'utf8'))
  .readyMarker as string;

/** A VM of the test guest (direct kernel boot) made with the CLI, as a user would; its id. */
export function createGuestVm(hangar: Hangar, name: string, diskSize = '64M'): string {
  const r = hangar.cli([
    'create',
    '--name',
    name,
    '--memory',
    '256',
    '--disk-size',
    diskSize,
    '--kernel',
    join(guestDir, 'vmlinuz'),
    '--initrd',
    join(guestDir, 'initrd.img'),
    '--append',
    'console=ttyS0',
  ]);
  if (r.code !== 0) throw new Error(`hangar create ${name} failed: ${r.stderr}`);
  return (r.json as { id: string }).id;
}

export const test = base.extend<{ stopLeftovers: void }, { hangar: Hangar }>({
  // After each test, force off what it left running: the worker's Hangar is shared by every spec
  // file, and a guest left spinning under TCG slows the boots of the tests after it.
  stopLeftovers: [
    async ({ hangar }, use) => {
      await use();
      for (const vm of (hangar.cli(['list']).json as { id: string; state: string }[] | null) ?? []) {
        if (vm.state !== 'stopped') hangar.cli(['stop', vm.id, '--force']);
      }
    },
    { auto: true },
  ],
  hangar: [
    // Playwright reads the fixture's parameter list, and this one needs no other fixture.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const home = mkdtempSync(join(tmpdir(), 'hangar-e2e-'));
      const runtime = mkdtempSync('/tmp/he-');
      // The user's home with Hangar's data where it lives by default, below it: files the tests
      // put in the home itself are the user's, which the path policy lets VMs use.
      const env = {
        ...process.env,
        HANGAR_HOME: join(home, '.local', 'share', 'hangar'),
        HANGAR_RUNTIME_DIR: runtime,
        HANGAR_ACCEL: 'tcg',
        HOME: home,
        // The demo's guest is seeded from the built test guest: the demo spec downloads nothing.
        XDG_CACHE_HOME: seedDemoCache(join(home, '.cache')),
      };
      const server: ChildProcess = spawn(process.execPath, [bin, 'serve'], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const found = findServeUrl(out);
          if (found) resolve(found.url);
        });
        server.once('exit', (code) => reject(new Error(`hangar serve exited (${code}): ${out}`)));
      });
      const cli = (args: string[]) => {
        const r = spawnSync(process.execPath, [bin, ...args, '--json'], { env, encoding: 'utf8' });
        let json: unknown;
        try {
          json = JSON.parse(r.stdout);
        } catch {
          json = null;
        }
        return { code: r.status ?? -1, json, stderr: r.stderr };
      };
      await use({ url, env, home, cli });
      // Labs first: destroying one also stops its switch process, which outlives the server.
      for (const lab of (cli(['lab', 'list']).json as { name: string }[] | null) ?? []) {
        cli(['lab', 'destroy', lab.name, '--yes']);
      }
      for (const vm of (cli(['list']).json as { id: string; state: string }[] | null) ?? []) {
        if (vm.state !== 'stopped') cli(['stop', vm.id, '--force']);
      }
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      rmSync(home, { recursive: true, force: true });
      rmSync(runtime, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
