// The Electron shell, end to end: launch the built app, then check from inside the page that it
// gets the three API functions and nothing of Node, and from main that the window is hardened.
// Where the Electron binary is absent (it downloads from GitHub, which some machines cannot reach)
// the test skips and prints why: it must never pass without having run.
import { _electron, expect, test } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The executable, or why there is none. Read from path.txt rather than require('electron'), whose
 * index.js starts a download when the binary is missing.
 */
function electronBinary(): { path: string } | { missing: string } {
  const pkg = join(root, 'node_modules', 'electron');
  let rel: string;
  try {
    rel = readFileSync(join(pkg, 'path.txt'), 'utf8').trim();
  } catch {
    return { missing: `${pkg}/path.txt is absent (npm did not run electron's install script)` };
  }
  const bin = join(process.env.ELECTRON_OVERRIDE_DIST_PATH || join(pkg, 'dist'), rel);
  return existsSync(bin) ? { path: bin } : { missing: `${bin} does not exist` };
}

interface PageView {
  keys: string[];
  kinds: string[];
  require: string;
  process: string;
  module: string;
}

test('the Electron window is hardened and exposes only call/onEvent/consoleUrl/pickFile/dropFile', async () => {
  const bin = electronBinary();
  if ('missing' in bin) {
    const reason = `Electron binary not installed: ${bin.missing}`;
    console.log(`[electron.spec] SKIPPED: ${reason}`);
    test.skip(true, reason);
    return;
  }
  if (
    !existsSync(join(root, 'out', 'main', 'index.js')) ||
    !existsSync(join(root, 'out', 'preload', 'index.cjs'))
  )
    throw new Error('The app is not built: run `npm run build` first.');

  const home = mkdtempSync(join(tmpdir(), 'hangar-electron-'));
  const runtime = mkdtempSync('/tmp/he-');
  // A throwaway home, and the built renderer rather than a dev server.
  const env: Record<string, string> = { HANGAR_HOME: home, HANGAR_RUNTIME_DIR: runtime };
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && k !== 'ELECTRON_RENDERER_URL' && !(k in env)) env[k] = v;
  const app = await _electron.launch({
    executablePath: bin.path,
    // Chromium inside Electron refuses to run as root with its sandbox on.
    args: [root, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
    env,
  });
  try {
    const page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    await expect(page).toHaveTitle('Hangar');
    expect(new URL(page.url()).origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const seen = await page.evaluate((): PageView => {
      const g = globalThis as unknown as Record<string, unknown>;
      const api = (g.hangar ?? {}) as Record<string, unknown>;
      return {
        keys: Object.keys(api).sort(),
        kinds: Object.values(api).map((v) => typeof v),
        require: typeof g.require,
        process: typeof g.process,
        module: typeof g.module,
      };
    });
    expect(seen.keys).toEqual(['call', 'consoleUrl', 'dropFile', 'onEvent', 'pickFile']);
    expect(seen.kinds).toEqual(['function', 'function', 'function', 'function', 'function']);
    expect(seen.require).toBe('undefined');
    expect(seen.process).toBe('undefined');
    expect(seen.module).toBe('undefined');

    // The API answers through IPC, and failures arrive as data, not as thrown errors.
    const [info, bad] = await page.evaluate(async () => {
      const api = (globalThis as unknown as { hangar: { call(m: string, p: unknown): Promise<unknown> } })
        .hangar;
      return [await api.call('host.info', {}), await api.call('no.such.method', {})];
    });
    expect(info).toMatchObject({ ok: true });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    // The window names no host file itself: a typed path is refused, files come from the dialog.
    const typed = await page.evaluate(() =>
      (globalThis as unknown as { hangar: { call(m: string, p: unknown): Promise<unknown> } }).hangar.call(
        'disk.info',
        { path: '/etc/passwd' },
      ),
    );
    expect(typed).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: /picker/ } });

    // Leaving the app's origin is refused. The refusal itself is observed: a listener added in main
    // after the shell's guard records whether the guard prevented each navigation, since an
    // unchanged URL alone would also be seen while a navigation that was let through is loading.
    await app.evaluate(({ BrowserWindow }) => {
      const seen: { url: string; refused: boolean }[] = [];
      (globalThis as { hangarNavigations?: typeof seen }).hangarNavigations = seen;
      BrowserWindow.getAllWindows()[0]!.webContents.on('will-navigate', (e) =>
        seen.push({ url: e.url, refused: e.defaultPrevented }),
      );
    });
    const before = page.url();
    await page.evaluate(() => {
      (window as { hangarStays?: boolean }).hangarStays = true;
      location.href = 'https://example.com/';
    });
    await expect
      .poll(() => app.evaluate(() => (globalThis as { hangarNavigations?: unknown[] }).hangarNavigations))
      .toEqual([{ url: 'https://example.com/', refused: true }]);
    expect(page.url()).toBe(before);
    // Still the same document: a page that had navigated away would not have the marker.
    expect(await page.evaluate(() => (window as { hangarStays?: boolean }).hangarStays)).toBe(true);

    // A new window is refused too. (Not window.open of an https link: the shell would hand that to
    // the system browser.)
    const opened = await page.evaluate(
      () => window.open('about:blank') !== null || window.open('file:///etc/passwd') !== null,
    );
    expect(opened).toBe(false);

    // One window only: the refused window.open left nothing behind.
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1);
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  }
});
