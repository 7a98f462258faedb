import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAgent } from './fake-agent';
import { GuestAgent } from './session';

const agents: FakeAgent[] = [];
const sessions: GuestAgent[] = [];

afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await Promise.all(agents.splice(0).map((a) => a.close()));
});

async function fake(): Promise<FakeAgent> {
  const a = await FakeAgent.start();
  agents.push(a);
  return a;
}

function session(path: string, maxLineBytes?: number): GuestAgent {
  const s = new GuestAgent(path, maxLineBytes === undefined ? {} : { maxLineBytes });
  sessions.push(s);
  return s;
}

/** A guest that sends bytes without a newline for as long as the connection stays open. */
function flood(a: FakeAgent, chunk = 64 * 1024): void {
  a.onConnect = (socket) => {
    const data = Buffer.alloc(chunk, 'x');
    const more = () => {
      if (socket.destroyed || a.bytesWritten > 64 * 1024 * 1024) return;
      a.write(data);
      setImmediate(more);
    };
    more();
  };
}

describe('GuestAgent session', () => {
  it('closed while connecting: the connect is cut off, not left holding the channel', async () => {
    const a = await fake();
    const sockets: import('node:net').Socket[] = [];
    a.onConnect = (socket) => sockets.push(socket);
    const s = session(a.path);
    const answer = s.ping(5_000);
    // The ping is still connecting when the engine closes.
    await new Promise((r) => setImmediate(r));
    s.close();
    expect(await answer).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    // Whatever reached the agent's side has been closed by the session's side again.
    expect(sockets.every((k) => k.destroyed || k.readableEnded)).toBe(true);
  });

  it('syncs a fresh connection before its first command', async () => {
    const a = await fake();
    a.handle('guest-info', () => ({ return: { version: '7.2.0' } }));
    const s = session(a.path);
    expect(await s.execute('guest-info', undefined, 5_000)).toEqual({
      ok: true,
      value: { version: '7.2.0' },
    });
    expect(await s.execute('guest-info', undefined, 5_000)).toEqual({
      ok: true,
      value: { version: '7.2.0' },
    });
    expect(a.commands).toEqual(['guest-sync-delimited', 'guest-info', 'guest-info']);
  });

  it('never takes stale output left on the channel as the answer to the first command', async () => {
    const a = await fake();
    a.onConnect = () =>
      a.write(
        '{"return": {}}\nnot json\n{"error": {"class": "X", "desc": "old"}}\n{"return": {"version": "sta',
      );
    a.handle('guest-info', () => ({ return: { version: 'fresh' } }));
    const s = session(a.path);
    expect(await s.execute('guest-info', undefined, 5_000)).toEqual({
      ok: true,
      value: { version: 'fresh' },
    });
    expect(a.commands).toEqual(['guest-sync-delimited', 'guest-info']);
  });

  it("drops a late reply meant for an earlier session's command", async () => {
    const a = await fake();
    // The guest finishes the first session's command only once the next session is talking to it.
    a.handle('slow', async () => {
      await a.waitForCommand('guest-sync-delimited', 1);
      return { return: 'slow answer' };
    });
    a.handle('guest-info', () => ({ return: 'info answer' }));
    const first = session(a.path);
    expect(await first.ping(5_000)).toBe(true);
    const late = await first.execute('slow', undefined, 200);
    expect(late).toMatchObject({ ok: false, answered: false, reason: 'timeout' });
    first.close();
    const second = session(a.path);
    expect(await second.execute('guest-info', undefined, 5_000)).toEqual({ ok: true, value: 'info answer' });
  });

  it('syncs again after a command it stopped waiting for, so its late answer goes to nobody', async () => {
    const a = await fake();
    a.handle('slow', async () => {
      await a.waitForCommand('guest-sync-delimited', 1);
      return { return: 'slow answer' };
    });
    a.handle('guest-info', () => ({ return: 'info answer' }));
    const s = session(a.path);
    expect(await s.ping(5_000)).toBe(true);
    expect(await s.execute('slow', undefined, 200)).toMatchObject({ ok: false, reason: 'timeout' });
    expect(await s.execute('guest-info', undefined, 5_000)).toEqual({ ok: true, value: 'info answer' });
    expect(a.commands).toEqual(['guest-sync-delimited', 'slow', 'guest-sync-delimited', 'guest-info']);
    expect(a.connections).toBe(1);
  });

  it('makes the agent drop a half-sent command left by an earlier client', async () => {
    const a = await fake();
    a.handle('guest-info', () => ({ return: 'info answer' }));
    const earlier = connect(a.path);
    await new Promise<void>((resolve) => earlier.write('{"execute": "guest-fsfreeze-fr', () => resolve()));
    earlier.destroy();
    await a.waitForClose(1);
    expect(await session(a.path).execute('guest-info', undefined, 5_000)).toEqual({
      ok: true,
      value: 'info answer',
    });
    expect(a.commands).toEqual(['guest-sync-delimited', 'guest-info']);
  });

  it('runs concurrent commands one at a time, each getting its own answer', async () => {
    const a = await fake();
    a.handle('a', () => ({ return: 'A' }));
    a.handle('b', () => ({ return: 'B' }));
    const s = session(a.path);
    const [ra, rb] = await Promise.all([s.execute('a', undefined, 5_000), s.execute('b', undefined, 5_000)]);
    expect(ra).toEqual({ ok: true, value: 'A' });
    expect(rb).toEqual({ ok: true, value: 'B' });
  });

  it("returns the agent's errors as answered errors", async () => {
    const a = await fake();
    a.handle('guest-exec', () => ({ error: { class: 'GenericError', desc: 'x'.repeat(5_000) } }));
    const r = await session(a.path).execute('guest-exec', { path: '/bin/true' }, 5_000);
    expect(r).toMatchObject({ ok: false, answered: true, errorClass: 'GenericError' });
    expect(r.ok === false && r.error.length).toBeLessThan(1_100);
  });

  it('drops the connection of a guest that floods without a newline, while another VM answers', async () => {
    const bad = await fake();
    const good = await fake();
    flood(bad);
    good.handle('guest-info', () => ({ return: 'fine' }));
    const limit = 256 * 1024;
    const flooded = session(bad.path, limit);
    const healthy = session(good.path, limit);

    const [r1, r2] = await Promise.all([
      flooded.execute('guest-info', undefined, 4_000),
      healthy.execute('guest-info', undefined, 4_000),
    ]);
    expect(r1).toMatchObject({ ok: false, answered: false, reason: 'too-long' });
    expect(r2).toEqual({ ok: true, value: 'fine' });
    await bad.waitForClose(1);
    expect(bad.bytesWritten).toBeGreaterThan(limit);
    expect(flooded.connected).toBe(false);
    expect(flooded.bufferedBytes).toBe(0);

    // Resynchronised: the next call opens a new connection and syncs it first.
    bad.onConnect = undefined;
    bad.handle('guest-info', () => ({ return: 'recovered' }));
    expect(await flooded.execute('guest-info', undefined, 5_000)).toEqual({ ok: true, value: 'recovered' });
    expect(bad.received.filter((c) => c.connection === 2).map((c) => c.execute)).toEqual([
      'guest-sync-delimited',
      'guest-info',
    ]);
  });

  it('times out every call to a silent agent while another VM answers', async () => {
    const silent = await fake();
    const good = await fake();
    silent.handle('guest-sync-delimited', () => undefined);
    good.handle('guest-info', () => ({ return: 'fine' }));
    const quiet = session(silent.path);
    const [r1, r2, r3] = await Promise.all([
      quiet.execute('guest-info', undefined, 300),
      quiet.execute('guest-info', undefined, 300),
      session(good.path).execute('guest-info', undefined, 5_000),
    ]);
    expect(r1).toMatchObject({ ok: false, answered: false, reason: 'timeout' });
    expect(r2).toMatchObject({ ok: false, answered: false, reason: 'timeout' });
    expect(r3).toEqual({ ok: true, value: 'fine' });
    expect(await quiet.ping(200)).toBe(false);
    // Nothing but syncs ever reached the silent agent: no command went out unsynced.
    expect(new Set(silent.commands)).toEqual(new Set(['guest-sync-delimited']));
  });

  it('says unreachable when there is no channel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qga-'));
    try {
      const r = await session(join(dir, 'none.sock')).execute('guest-info', undefined, 1_000);
      expect(r).toMatchObject({ ok: false, answered: false, reason: 'unreachable' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
