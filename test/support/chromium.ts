// Debian's Chromium as the tests and the bench run it on these machines: Playwright cannot
// download its own browsers here. Root needs --no-sandbox; the rest keep Chromium off the
// closed network, which it would otherwise flood with connection attempts.
export const CHROMIUM_PATH = process.env.HANGAR_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
