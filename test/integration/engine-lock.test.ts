// The engine lock across processes: engines started together after a crash, a holder killed
// with SIGKILL, and a holder that only reads who holds the lock.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineLock, readLock } from '../../src/main/engine/lock';

interface Outcome {
  won: boolean;
  pid: number;
  code?: string;
  details?: { pid: number; endpoint: string | null };
}

let home: string;
const children: ChildProcessWithoutNullStreams[] = [];

/** Starts a lock child and resolves once it is ready to race; `outcome` is its one result. */
async function lockChild(endpoint: string) {
  // node itself, not npx: a SIGKILL must hit the process that holds the lock.
  const child = spawn(process.execPath, [
    '--import',
    'tsx',
    join(__dirname, '../support/lock-child.ts'),
    home,
    endpoint,
  ]);
  children.push(child);
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let buffered = '';
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  const line = (i: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => (lines.length > i ? resolve(lines[i]!) : waiters.push(check));
      child.once('exit', (code) => reject(new Error(`lock child exited ${code}`)));
      check();
    });
  expect(await line(0)).toBe('ready');
  return {
    child,
    go: () => child.stdin.write('go\n'),
    outcome: async () => JSON.parse(await line(1)) as Outcome,
  };
}

const exited = (child: ChildProcessWithoutNullStreams) =>
  new Promise((r) =>
    child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
  );

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'hangar-lock-it-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await exited(c);
  }
  rmSync(home, { recursive: true, force: true });
});

describe('engine lock between processes', () => {
  it('lets exactly one of several engines started together after a crash win; the others learn its pid', async () => {
    // The crashed engine leaves its record behind, naming a process that is gone.
    const crashed = await lockChild('endpoint-crashed');
    crashed.go();
    expect(await crashed.outcome()).toMatchObject({ won: true });
    const racers = await Promise.all([1, 2, 3, 4, 5].map((n) => lockChild(`endpoint-${n}`)));
    crashed.child.kill('SIGKILL');
    await exited(crashed.child);
    for (const r of racers) r.go();
    const outcomes = await Promise.all(racers.map((r) => r.outcome()));
    const winners = outcomes.filter((o) => o.won);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!;
    const endpoint = `endpoint-${outcomes.indexOf(winner) + 1}`;
    for (const o of outcomes.filter((x) => !x.won)) {
      expect(o.code).toBe('BUSY');
      expect(o.details?.pid).toBe(winner.pid);
    }
    expect(readLock(home)).toMatchObject({ pid: winner.pid, endpoint });
    await expect(EngineLock.acquire(home)).rejects.toMatchObject({
      code: 'BUSY',
      details: { pid: winner.pid },
    });
  });

  it('is free as soon as its holder is SIGKILLed', async () => {
    const holder = await lockChild('endpoint-h');
    holder.go();
    expect(await holder.outcome()).toMatchObject({ won: true });
    await expect(EngineLock.acquire(home)).rejects.toMatchObject({ code: 'BUSY' });
    holder.child.kill('SIGKILL');
    await exited(holder.child);
    expect(readLock(home)).toBeNull();
    const lock = await EngineLock.acquire(home);
    expect(readLock(home)).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('stays held while its own process asks who holds it', async () => {
    const lock = await EngineLock.acquire(home, 'mine');
    // A look at the file from this process would close a descriptor and drop the POSIX lock.
    for (let i = 0; i < 3; i++) expect(readLock(home)).toMatchObject({ pid: process.pid, endpoint: 'mine' });
    const other = await lockChild('endpoint-o');
    other.go();
    expect(await other.outcome()).toMatchObject({
      won: false,
      code: 'BUSY',
      details: { pid: process.pid, endpoint: 'mine' },
    });
    lock.release();
  });
});
