import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAgent } from './fake-agent';
import { withFrozenGuest } from './freeze';

let agent: FakeAgent | null = null;
let dir = '';

afterEach(async () => {
  await agent?.close();
  agent = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** A fake qemu-ga that freezes two filesystems and thaws them, unless a test scripts otherwise. */
async function fake(): Promise<FakeAgent> {
  agent = await FakeAgent.start();
  agent.handle('guest-fsfreeze-freeze', () => ({ return: 2 }));
  agent.handle('guest-fsfreeze-thaw', () => ({ return: 2 }));
  return agent;
}

function snapshot(a: FakeAgent) {
  return async () => {
    a.received.push({ execute: 'snapshot', connection: a.connections });
    return 7;
  };
}

describe('withFrozenGuest', () => {
  it('freezes, runs, and thaws when an agent answers', async () => {
    const a = await fake();
    const r = await withFrozenGuest(a.path, snapshot(a));
    expect(r).toEqual({ result: 7, consistency: 'frozen' });
    expect(a.commands).toEqual([
      'guest-sync-delimited',
      'guest-fsfreeze-freeze',
      'snapshot',
      'guest-fsfreeze-thaw',
    ]);
  });

  it('thaws even when the snapshot fails', async () => {
    const a = await fake();
    await expect(withFrozenGuest(a.path, async () => Promise.reject(new Error('disk full')))).rejects.toThrow(
      'disk full',
    );
    expect(a.commands.at(-1)).toBe('guest-fsfreeze-thaw');
  });

  it('says crash-consistent, without freezing, when no agent answers', async () => {
    const a = await fake();
    a.handle('guest-sync-delimited', () => undefined);
    const r = await withFrozenGuest(a.path, async () => 'done', { pingTimeoutMs: 200 });
    expect(r).toEqual({ result: 'done', consistency: 'crash' });
    expect(a.commands).toEqual(['guest-sync-delimited']);
  });

  it('says crash-consistent when there is no channel at all', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qga-'));
    expect((await withFrozenGuest(join(dir, 'none.sock'), async () => 1)).consistency).toBe('crash');
  });

  it('thaws after a freeze that answered only after its timeout, and says crash-consistent', async () => {
    const a = await fake();
    // The freeze completes in the guest, but only once the engine has given up and moved on.
    a.handle('guest-fsfreeze-freeze', async () => {
      await a.waitForCommand('guest-sync-delimited', 1);
      return { return: 2 };
    });
    const r = await withFrozenGuest(a.path, snapshot(a), { freezeTimeoutMs: 200 });
    expect(r).toEqual({ result: 7, consistency: 'crash' });
    expect(a.commands).toEqual([
      'guest-sync-delimited',
      'guest-fsfreeze-freeze',
      'snapshot',
      'guest-sync-delimited',
      'guest-fsfreeze-thaw',
    ]);
  });

  it('thaws after a freeze that returned an error, and says crash-consistent', async () => {
    const a = await fake();
    a.handle('guest-fsfreeze-freeze', () => ({
      error: { class: 'GenericError', desc: 'failed to freeze /' },
    }));
    const r = await withFrozenGuest(a.path, snapshot(a));
    expect(r).toEqual({ result: 7, consistency: 'crash' });
    expect(a.commands).toEqual([
      'guest-sync-delimited',
      'guest-fsfreeze-freeze',
      'snapshot',
      'guest-fsfreeze-thaw',
    ]);
  });

  it('does not call a freeze of no filesystem, or a reply that is not a count, frozen', async () => {
    for (const value of [0, 'yes', { frozen: 2 }]) {
      const a = await fake();
      a.handle('guest-fsfreeze-freeze', () => ({ return: value }));
      expect(await withFrozenGuest(a.path, snapshot(a))).toEqual({ result: 7, consistency: 'crash' });
      expect(a.commands.at(-1)).toBe('guest-fsfreeze-thaw');
      await a.close();
      agent = null;
    }
  });

  it('tries the thaw again and reports it when the agent never confirms it', async () => {
    const a = await fake();
    a.handle('guest-fsfreeze-thaw', () => undefined);
    const r = await withFrozenGuest(a.path, snapshot(a), { thawTimeoutMs: 200, thawAttempts: 2 });
    expect(r.consistency).toBe('frozen');
    expect(r.thawFailed).toMatch(/did not answer/);
    expect(a.commands.filter((c) => c === 'guest-fsfreeze-thaw')).toHaveLength(2);
  });

  it('reconnects to thaw when the guest flooded the connection during the freeze', async () => {
    const a = await fake();
    a.handle('guest-fsfreeze-freeze', () => ({ raw: Buffer.alloc(2048, 'x') }));
    const r = await withFrozenGuest(a.path, snapshot(a), { maxLineBytes: 1024 });
    expect(r).toEqual({ result: 7, consistency: 'crash' });
    expect(a.received.filter((c) => c.execute !== 'snapshot').map((c) => [c.connection, c.execute])).toEqual([
      [1, 'guest-sync-delimited'],
      [1, 'guest-fsfreeze-freeze'],
      [2, 'guest-sync-delimited'],
      [2, 'guest-fsfreeze-thaw'],
    ]);
  });
});
