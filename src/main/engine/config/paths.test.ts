import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSocketPaths, ensureRuntimeDir, hangarHome, runtimeRoot, vmPaths } from './paths';

describe('paths', () => {
  it('defaults to the XDG data dir and honours HANGAR_HOME', () => {
    expect(hangarHome({ HOME: '/home/u', XDG_DATA_HOME: '/x' } as NodeJS.ProcessEnv)).toBe('/x/hangar');
    expect(hangarHome({ HANGAR_HOME: '/h' } as NodeJS.ProcessEnv)).toBe('/h');
  });

  it('gives two homes two runtime dirs', () => {
    const env = { XDG_RUNTIME_DIR: '/run/user/1000' } as NodeJS.ProcessEnv;
    expect(runtimeRoot('/a', env)).not.toBe(runtimeRoot('/b', env));
    expect(runtimeRoot('/a', env).startsWith('/run/user/1000/hangar-')).toBe(true);
  });

  it('refuses socket paths over 107 bytes with the fix in the message', () => {
    const env = { HANGAR_RUNTIME_DIR: '/' + 'x'.repeat(90) } as NodeJS.ProcessEnv;
    expect(() => checkSocketPaths(vmPaths('/h', 'abcdefghijkl', env))).toThrow(/HANGAR_RUNTIME_DIR/);
    expect(() =>
      checkSocketPaths(vmPaths('/h', 'abcdefghijkl', { HANGAR_RUNTIME_DIR: '/tmp' })),
    ).not.toThrow();
  });

  it('creates the runtime dirs private (0700)', () => {
    const base = mkdtempSync(join(tmpdir(), 'hr-'));
    try {
      const p = vmPaths('/h', 'abcdefghijkl', { HANGAR_RUNTIME_DIR: base });
      ensureRuntimeDir(p);
      expect(statSync(p.runDir).mode & 0o777).toBe(0o700);
      expect(statSync(join(p.runDir, '..')).mode & 0o777).toBe(0o700);
      expect(statSync(base).mode & 0o777).not.toBe(0); // the shared base is left as it was
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
