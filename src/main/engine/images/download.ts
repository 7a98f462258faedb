// Downloads into the library's partial folder: resumable with HTTP Range (a dropped connection is
// retried from where it stopped), proxies from the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY,
// as curl reads them), a size that cannot fit refused before a byte is written, and progress with
// speed and time left. Nothing here trusts the server: sizes are checked, bodies are bounded.
import { createWriteStream, mkdirSync, statSync, statfsSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EnvHttpProxyAgent, fetch, type Dispatcher } from 'undici';
import { HangarError } from '../../../shared/errors';
import { formatSize } from '../storage/size';

export interface DownloadProgress {
  done: number;
  total: number | null;
  bytesPerSec: number;
  secondsLeft: number | null;
}

let agent: Dispatcher | null = null;
function dispatcher(): Dispatcher {
  agent ??= new EnvHttpProxyAgent();
  return agent;
}

function checkUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HangarError('INVALID_INPUT', `"${url}" is not a URL.`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:')
    throw new HangarError('INVALID_INPUT', `Only http and https downloads are supported, not ${u.protocol}`);
  return u;
}

/** A small file (a checksum list, a signature), at most 4 MiB. */
export async function fetchSmall(url: string): Promise<Buffer> {
  checkUrl(url);
  const res = await fetch(url, { dispatcher: dispatcher(), redirect: 'follow' }).catch((err: Error) => {
    throw new HangarError(
      'IO_ERROR',
      `Could not reach ${url}: ${err.cause ? String(err.cause) : err.message}`,
    );
  });
  if (!res.ok) throw new HangarError('NOT_FOUND', `${url} answered ${res.status} ${res.statusText}.`);
  const announced = Number(res.headers.get('content-length') ?? 0);
  if (announced > 4 << 20) {
    await res.body?.cancel();
    throw new HangarError('INVALID_INPUT', `${url} is too large for a checksum list.`);
  }
  // Read as it comes and stopped at the bound: a server that announces nothing is not believed.
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > 4 << 20) {
      await res.body?.cancel().catch(() => {});
      throw new HangarError('INVALID_INPUT', `${url} is too large for a checksum list.`);
    }
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** Where a URL's partial download lives (kept between attempts so it can resume). */
export function partialFile(partialDir: string, url: string): string {
  return join(partialDir, `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.part`);
}

function freeBytes(dir: string): number {
  const st = statfsSync(dir);
  return st.bavail * st.bsize;
}

/** Total size from Content-Range ("bytes 100-199/1000") or Content-Length. */
function totalOf(res: Response | Awaited<ReturnType<typeof fetch>>, offset: number): number | null {
  const range = res.headers.get('content-range');
  const m = range ? /\/(\d+)$/.exec(range) : null;
  if (m) return Number(m[1]);
  const len = res.headers.get('content-length');
  return len !== null && /^\d+$/.test(len) ? Number(len) + offset : null;
}

export async function download(
  url: string,
  target: string,
  opts: { onProgress?: (p: DownloadProgress) => void; attempts?: number; signal?: AbortSignal } = {},
): Promise<void> {
  checkUrl(url);
  mkdirSync(join(target, '..'), { recursive: true, mode: 0o700 });
  const attempts = opts.attempts ?? 5;
  let lastError: unknown = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const offset = statSync(target, { throwIfNoEntry: false })?.size ?? 0;
    const res = await fetch(url, {
      dispatcher: dispatcher(),
      redirect: 'follow',
      headers: offset ? { range: `bytes=${offset}-` } : {},
      signal: opts.signal,
    }).catch((err: Error) => {
      lastError = new HangarError(
        'IO_ERROR',
        `Could not reach ${url}: ${err.cause ? String(err.cause) : err.message}`,
      );
      return null;
    });
    if (!res) continue;
    if (res.status === 416 && offset) {
      // The partial file is already whole (or the server changed the file): start again.
      rmSync(target, { force: true });
      continue;
    }
    if (!res.ok)
      throw new HangarError('NOT_FOUND', `${url} answered ${res.status} ${res.statusText}.`, {
        status: res.status,
      });
    const resumed = res.status === 206 && offset > 0;
    if (!resumed && offset) rmSync(target, { force: true });
    const start = resumed ? offset : 0;
    const total = totalOf(res, start);
    if (total !== null) {
      const free = freeBytes(join(target, '..'));
      if (total - start > free) {
        await res.body?.cancel();
        rmSync(target, { force: true });
        throw new HangarError(
          'IO_ERROR',
          `${url} is ${formatSize(total)}, but the library's disk has ${formatSize(free)} free. Free some space and pull again.`,
          { need: total, free },
        );
      }
    }
    if (!res.body) throw new HangarError('IO_ERROR', `${url} sent no body.`);
    let done = start;
    const began = Date.now();
    let lastReport = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    body.on('data', (chunk: Buffer) => {
      done += chunk.length;
      if (total !== null && done > total) body.destroy(new Error('the server sent more than it announced'));
      const now = Date.now();
      if (now - lastReport < 200 && done !== total) return;
      lastReport = now;
      const rate = ((done - start) * 1000) / Math.max(1, now - began);
      opts.onProgress?.({
        done,
        total,
        bytesPerSec: Math.round(rate),
        secondsLeft: total !== null && rate > 0 ? Math.round((total - done) / rate) : null,
      });
    });
    const out = createWriteStream(target, { flags: resumed ? 'a' : 'w', mode: 0o600 });
    try {
      await pipeline(body, out);
    } catch (err) {
      // pipeline rejects before the file stream has finished its queued writes; the next attempt
      // measures the file to resume from, so it must wait, or those late writes land after the
      // resumed bytes and the file outgrows the image.
      if (!out.closed) await new Promise<void>((done) => out.once('close', () => done()));
      if (opts.signal?.aborted) throw new HangarError('CONFLICT', 'The download was cancelled.');
      lastError = new HangarError('IO_ERROR', `The download of ${url} broke off: ${(err as Error).message}`);
      continue;
    }
    const size = statSync(target).size;
    if (total !== null && size !== total) {
      lastError = new HangarError('IO_ERROR', `The download of ${url} ended at ${size} of ${total} bytes.`);
      continue;
    }
    return;
  }
  throw lastError ?? new HangarError('IO_ERROR', `The download of ${url} failed.`);
}
