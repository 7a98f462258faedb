import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { chromiumFlags } from './chromium-flags.mjs';

const base = { launchUrl: 'file:///tmp/p/launch.html', profile: '/tmp/p', display: ':0' };

describe('the app window flags', () => {
  it('as root: no sandbox, and no permanent bar about that flag', () => {
    const flags = chromiumFlags({ ...base, isRoot: true }) as string[];
    expect(flags).toContain('--no-sandbox');
    expect(flags).toContain('--test-type');
  });

  it('as a user: the sandbox stays on, and nothing hides Chromium bars', () => {
    const flags = chromiumFlags({ ...base, isRoot: false }) as string[];
    expect(flags).not.toContain('--no-sandbox');
    expect(flags).not.toContain('--test-type');
    expect(flags[0]).toBe('--app=file:///tmp/p/launch.html');
  });
});
