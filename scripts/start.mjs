// `npm start`: builds when the build is missing or older than the sources, then opens Hangar: in
// Electron when its binary is installed, otherwise (or with --browser) in a Chromium app window
// served by `hangar serve`. It never fails for want of Electron: the binary downloads from GitHub,
// which some machines cannot reach, and everything above the thin shell runs in a browser too.
import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromiumFlags, ROOT_NOTE } from './chromium-flags.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const OUTPUTS = ['out/main/index.js', 'out/main/cli.js', 'out/preload/index.cjs', 'out/renderer/index.html'];
const INPUTS = ['src', 'electron.vite.config.ts', 'package.json'];
const BROWSERS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
// The host server's first-load URL: its secret base path, then the token. Both are secrets, and
// both go to Chromium only inside the private launch page, never on its command line.
const URL_LINE = /http:\/\/127\.0\.0\.1:\d+\/s\/[A-Za-z0-9_-]+\/\?token=[A-Za-z0-9_-]+/;

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(
    'Usage: npm start [-- --browser]\n  --browser  open the Chromium app window even where Electron is installed',
  );
  process.exit(0);
}

function newestMtime(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return path.endsWith('.test.ts') ? 0 : st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

function buildIfStale() {
  const outputs = OUTPUTS.map((p) => statSync(join(root, p), { throwIfNoEntry: false })?.mtimeMs ?? 0);
  const inputs = Math.max(...INPUTS.map((p) => newestMtime(join(root, p))));
  if (Math.min(...outputs) > inputs) return;
  console.log('Hangar: building (the build is missing or older than the sources)...');
  const r = spawnSync(join(root, 'node_modules', '.bin', 'electron-vite'), ['build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error('Hangar: the build failed (see above); nothing was started.');
    process.exit(r.status ?? 1);
  }
}

/**
 * The Electron executable, or null. Not require('electron'): when the binary is missing, that
 * package's index.js tries to download it, which hangs where GitHub is unreachable.
 */
function electronBinary() {
  const pkg = join(root, 'node_modules', 'electron');
  try {
    const rel = readFileSync(join(pkg, 'path.txt'), 'utf8').trim();
    const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH || join(pkg, 'dist');
    const bin = join(dist, rel);
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

function onPath(names) {
  for (const name of names)
    for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not in this directory
      }
    }
  return null;
}

const isRoot = process.getuid?.() === 0;

function runElectron(bin) {
  // Chromium (inside Electron too) refuses to start as root with its sandbox on.
  const extra = isRoot ? ['--no-sandbox'] : [];
  if (isRoot) console.log('Hangar: running as root, so Electron starts with --no-sandbox.');
  const child = spawn(bin, [root, ...extra], { stdio: 'inherit' });
  // Ctrl-C reaches Electron itself (same process group) and it shuts down cleanly; just wait.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

/** Starts `hangar serve` and resolves with its URL once it prints it. */
function startServe() {
  // Its own process group, so that Ctrl-C reaches it once, from us: a second SIGINT would cut
  // its clean stop short.
  const child = spawn(process.execPath, [join(root, 'bin', 'hangar.js'), 'serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const url = new Promise((resolve, reject) => {
    let seen = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      seen += chunk;
      const m = URL_LINE.exec(seen);
      if (m) resolve(m[0]);
    });
    child.on('exit', (code) => reject(new Error(`hangar serve exited (code ${code}) before it was ready`)));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return { child, url, exited };
}

function profileDir() {
  // A throwaway profile under the runtime dir: the user's own browser profile is never touched.
  const base = process.env.HANGAR_RUNTIME_DIR || process.env.XDG_RUNTIME_DIR || tmpdir();
  mkdirSync(base, { recursive: true, mode: 0o700 });
  return mkdtempSync(join(base, 'hangar-chromium-'));
}

/**
 * A page in the private profile dir (0700) that goes on to the token URL: the token must not stand
 * on Chromium's command line, which every local user can read in /proc/PID/cmdline. The file is
 * 0600, as private as the engine's own record of the token, and goes with the profile.
 */
function launchPage(url, profile) {
  const file = join(profile, 'hangar-launch.html');
  const href = JSON.stringify(url);
  writeFileSync(
    file,
    '<!doctype html><meta charset="utf-8"><title>Hangar</title>' +
      `<meta http-equiv="refresh" content="0;url=${url}">` +
      `<script>location.replace(${href})</script>\n`,
    { mode: 0o600, flag: 'wx' },
  );
  return pathToFileURL(file).href;
}

function openChromium(browser, url, profile) {
  if (!URL_LINE.test(url)) throw new Error('hangar serve printed an unexpected URL');
  const flags = chromiumFlags({
    launchUrl: launchPage(url, profile),
    profile,
    isRoot,
    display: process.env.DISPLAY,
  });
  if (isRoot) console.log(ROOT_NOTE);
  const child = spawn(browser, flags, { stdio: ['ignore', 'ignore', 'pipe'] });
  // Chromium is chatty on stderr; keep the tail to show only if it fails.
  let tail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => (tail = (tail + s).slice(-4000)));
  const exited = new Promise((resolve) =>
    child.on('exit', (code) => {
      if (code) console.error(`Hangar: ${browser} exited with code ${code}:\n${tail}`);
      resolve(code);
    }),
  );
  return { child, exited };
}

async function runBrowser(reason) {
  console.log(`Hangar: ${reason}`);
  const serve = startServe();
  let browser = null;
  let profile = null;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    if (browser && browser.child.exitCode === null) browser.child.kill('SIGTERM');
    if (serve.child.exitCode === null) serve.child.kill('SIGINT');
    await serve.exited;
    if (browser) await browser.exited;
    if (profile) rmSync(profile, { recursive: true, force: true });
    console.log('Hangar: stopped. Running VMs keep running; `npx hangar list` shows them.');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Last resort if this script dies some other way: do not leave a serving engine behind.
  process.on('exit', () => serve.child.exitCode === null && serve.child.kill('SIGINT'));

  let url;
  try {
    url = await serve.url;
  } catch (err) {
    console.error(`Hangar: ${err.message}.`);
    process.exit(1);
  }
  serve.exited.then(() => {
    if (!stopping) {
      console.error('Hangar: the engine stopped unexpectedly.');
      void stop();
    }
  });

  const chromium = onPath(BROWSERS);
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    console.log(
      'No display here (DISPLAY and WAYLAND_DISPLAY are unset): open the URL above in a browser on this computer.',
    );
  } else if (!chromium) {
    console.log(
      `No Chromium found on PATH (${BROWSERS.join(', ')}): open the URL above in a browser on this computer.`,
    );
  } else {
    profile = profileDir();
    browser = openChromium(chromium, url, profile);
    console.log(`Opened Hangar in ${chromium}. Close its window or press Ctrl-C to stop.`);
    browser.exited.then(() => void stop());
    return;
  }
  console.log('Press Ctrl-C to stop serving.');
}

buildIfStale();
const electron = electronBinary();
if (electron && !args.includes('--browser')) runElectron(electron);
else
  await runBrowser(
    electron
      ? '--browser given, so Hangar opens in a Chromium app window.'
      : 'The Electron binary is not installed (it downloads from GitHub, which this machine cannot reach), ' +
          'so Hangar opens in a Chromium app window instead.',
  );
