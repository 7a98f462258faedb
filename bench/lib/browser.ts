// Debian's Chromium driven by Playwright, set up the way the e2e tests run it on these machines.
import { chromium, type Browser, type BrowserContext } from '@playwright/test';
import { onCleanup } from './env';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../test/support/chromium';

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  onCleanup(() => browser.close());
  return browser;
}

/**
 * tsx compiles the bench with esbuild's keepNames, which wraps functions in a `__name(...)` helper
 * that does not exist in the page where Playwright runs them; an identity stand-in fixes that.
 */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.addInitScript({ content: 'window.__name = (f) => f;' });
  return context;
}
