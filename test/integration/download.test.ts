// The resumable download against a real local HTTP server that breaks the first transfer off
// half-way. Repeated, because the defect it guards against was a race: the next attempt measured
// the partial file before the broken attempt's queued writes had landed, so the resumed bytes were
// appended at the wrong place and the file outgrew the image (seen as 4 requests instead of 2).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { download } from '../../src/main/engine/images/download';
import { serveFiles } from '../support/file-server';

const dir = mkdtempSync(join(tmpdir(), 'hangar-download-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('download', () => {
  it('resumes a broken transfer from exactly where the file ends, every time', async () => {
    const source = join(dir, 'pub.qcow2');
    const bytes = randomBytes(2 << 20);
    writeFileSync(source, bytes);
    for (let i = 0; i < 25; i++) {
      const server = await serveFiles({ '/img/pub.qcow2': source });
      try {
        // A whole transfer first, so the broken one rides a kept-alive connection as in a pull.
        await download(`${server.url}/img/pub.qcow2`, join(dir, `whole-${i}`));
        const target = join(dir, `resumed-${i}`);
        await download(`${server.url}/drop/img/pub.qcow2`, target);
        const tries = server.log.filter((r) => r.path === '/drop/img/pub.qcow2');
        expect(tries.map((r) => r.range)).toEqual([null, expect.stringMatching(/^bytes=[1-9]\d*-$/)]);
        expect(Number(/\d+/.exec(tries[1]!.range!)![0])).toBeLessThanOrEqual(bytes.length / 2);
        expect(readFileSync(target).equals(bytes)).toBe(true);
      } finally {
        await server.close();
      }
    }
  }, 120_000);
});
