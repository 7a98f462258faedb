import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFrozenGuest } from './qga';

let dir = '';
let server: Server | null = null;

afterEach(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A fake guest agent: answers like qemu-ga, or not at all. */
function agent(answer: boolean): Promise<{ path: string; seen: string[] }> {
  dir = mkdtempSync(join(tmpdir(), 'qga-'));
  const path = join(dir, 'qga.sock');
  const seen: string[] = [];
  server = createServer((c) => {
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; arguments?: { id?: number } };
        buf = buf.slice(nl + 1);
        seen.push(msg.execute);
        if (!answer) continue;
        if (msg.execute === 'guest-sync-delimited')
          c.write(
            Buffer.concat([
              Buffer.from([0xff]),
              Buffer.from(JSON.stringify({ return: msg.arguments!.id }) + '\n'),
            ]),
          );
        else c.write(JSON.stringify({ return: 2 }) + '\n');
      }
    });
  });
  return new Promise((resolve) => server!.listen(path, () => resolve({ path, seen })));
}

describe('withFrozenGuest', () => {
  it('freezes, runs, and thaws when an agent answers', async () => {
    const a = await agent(true);
    const r = await withFrozenGuest(a.path, async () => {
      a.seen.push('snapshot');
      return 7;
    });
    expect(r).toEqual({ result: 7, consistency: 'frozen' });
    expect(a.seen).toEqual([
      'guest-sync-delimited',
      'guest-fsfreeze-freeze',
      'snapshot',
      'guest-fsfreeze-thaw',
    ]);
  });

  it('thaws even when the snapshot fails', async () => {
    const a = await agent(true);
    await expect(withFrozenGuest(a.path, async () => Promise.reject(new Error('disk full')))).rejects.toThrow(
      'disk full',
    );
    expect(a.seen.at(-1)).toBe('guest-fsfreeze-thaw');
  });

  it('says crash-consistent, without freezing, when no agent answers', async () => {
    const a = await agent(false);
    const r = await withFrozenGuest(a.path, async () => 'done');
    expect(r.consistency).toBe('crash');
    expect(a.seen).toEqual(['guest-sync-delimited']);
  });

  it('says crash-consistent when there is no channel at all', async () => {
    dir = mkdtempSync(join(tmpdir(), 'qga-'));
    expect((await withFrozenGuest(join(dir, 'none.sock'), async () => 1)).consistency).toBe('crash');
  });
});
