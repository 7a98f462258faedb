import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineLock, readLock } from './lock';

let home: string;
const taken: EngineLock[] = [];
const acquire = async (endpoint: string | null = null) => {
  const l = await EngineLock.acquire(home, endpoint);
  taken.push(l);
  return l;
};

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hangar-lock-'));
});
afterEach(() => {
  for (const l of taken.splice(0)) l.release();
  rmSync(home, { recursive: true, force: true });
});

describe('engine lock in one process', () => {
  it('names its holder, refuses a second engine, and can be taken again once released', async () => {
    const lock = await acquire('ws://127.0.0.1:1/');
    expect(readLock(home)).toEqual(lock.holder);
    expect(lock.holder).toMatchObject({ pid: process.pid, endpoint: 'ws://127.0.0.1:1/' });
    await expect(EngineLock.acquire(home)).rejects.toMatchObject({
      code: 'BUSY',
      details: { pid: process.pid, endpoint: 'ws://127.0.0.1:1/' },
    });
    lock.release();
    expect(readLock(home)).toBeNull();
    await expect(acquire()).resolves.toBeInstanceOf(EngineLock);
  });

  it('lets only one of two acquires started together win', async () => {
    const results = await Promise.allSettled([acquire(), acquire()]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'BUSY' } });
  });

  it.each([
    ['pid 1', 1],
    ['the test runner', process.pid],
    ['its parent', process.ppid],
  ])('is not blocked by a lock file naming %s, alive but holding nothing', async (_, pid) => {
    writeFileSync(join(home, 'engine.lock'), JSON.stringify({ pid, startedAt: '2020-01-01', endpoint: 'x' }));
    expect(readLock(home)).toBeNull();
    const lock = await acquire();
    expect(readLock(home)).toMatchObject({ pid: process.pid, endpoint: null });
    expect(lock.holder.pid).toBe(process.pid);
  });

  it('is not blocked by the record of the link()-based lock of earlier versions', async () => {
    writeFileSync(join(home, 'engine.lock'), '{"pid":999999999,"startedAt":"x","endpoint":null}');
    writeFileSync(join(home, 'engine.lock.999999999.tmp'), '{}');
    await expect(acquire()).resolves.toBeInstanceOf(EngineLock);
  });
});
