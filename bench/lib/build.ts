// The build that `hangar serve` runs from. Other work on this machine may rebuild out/ while the
// bench runs (the integration tests do), and a half-written renderer fails a section; so the bench
// takes a private copy of a complete build once, and every served section runs that same copy.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root, sleep } from './env';

let copy: { bin: string; builtAt: string } | null = null;

/** Every chunk cli.js imports and every asset index.html names is there: the build is whole. */
function complete(out: string): boolean {
  const cli = join(out, 'main', 'cli.js');
  const html = join(out, 'renderer', 'index.html');
  if (!existsSync(cli) || !existsSync(html)) return false;
  const chunks = [...readFileSync(cli, 'utf8').matchAll(/["'](\.\/chunks\/[^"']+\.js)["']/g)];
  const assets = [...readFileSync(html, 'utf8').matchAll(/(?:src|href)="\/?(assets\/[^"]+)"/g)];
  return (
    chunks.every((m) => existsSync(join(out, 'main', m[1]!))) &&
    assets.every((m) => existsSync(join(out, 'renderer', m[1]!)))
  );
}

/** bin/hangar.js of the private copy; builds first when there is no build at all. */
export async function servedBin(): Promise<{ bin: string; builtAt: string }> {
  if (copy) return copy;
  const out = join(root, 'out');
  if (!existsSync(join(out, 'main', 'cli.js'))) {
    console.error('bench: building Hangar (npx electron-vite build)...');
    const r = spawnSync('npx', ['electron-vite', 'build', '--logLevel', 'warn'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('electron-vite build failed');
  }
  // Inside the checkout's node_modules, so the copy still resolves ws and zod the way out/ does.
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'hangar-bench-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (let attempt = 0; attempt < 10; attempt++) {
    rmSync(join(dir, 'out'), { recursive: true, force: true });
    cpSync(out, join(dir, 'out'), { recursive: true });
    if (complete(join(dir, 'out'))) {
      cpSync(join(root, 'bin'), join(dir, 'bin'), { recursive: true });
      const builtAt = statSync(join(dir, 'out', 'main', 'cli.js')).mtime.toISOString();
      copy = { bin: join(dir, 'bin', 'hangar.js'), builtAt };
      return copy;
    }
    await sleep(3000); // someone is building right now
  }
  throw new Error('out/ stayed incomplete (a build kept running elsewhere); run the bench again');
}

/** When the copied build was made, or null when no served section ran. */
export function builtAt(): string | null {
  return copy?.builtAt ?? null;
}
