// The flags of the Chromium app window `npm start` opens (scripts/start.mjs), kept apart so a test
// can check them without a browser.

/**
 * As root Chromium starts only with --no-sandbox, and then shows a permanent "unsupported
 * command-line flag" bar over the app. --test-type hides that bar and nothing else; the sandbox is
 * off either way, which start.mjs says once on the terminal.
 */
export function chromiumFlags({ launchUrl, profile, isRoot, display }) {
  const flags = [
    `--app=${launchUrl}`,
    `--user-data-dir=${profile}`,
    '--window-size=1280,820',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // A fresh profile would otherwise ask to unlock the desktop keyring.
    '--password-store=basic',
  ];
  if (!display) flags.push('--ozone-platform=wayland');
  if (isRoot) flags.push('--no-sandbox', '--test-type');
  return flags;
}

export const ROOT_NOTE =
  'Hangar: running as root, so the app window runs Chromium without its sandbox (Chromium refuses otherwise); run npm start as a normal user to keep it.';
