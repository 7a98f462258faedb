// A file dropped on the browser UI that the engine could not find on disk (host.findDropped): the
// page sends its bytes here and the server saves them into ~/Downloads, as a browser saves a
// download, then grants the saved file like one picked in the dialog. The bytes are untrusted: the
// file is checked where it is used (an ISO by its volume descriptor, a disk by qemu-img, an OVA as
// an untrusted archive), never here. Nothing is overwritten: a taken name gets " (1)" and so on.
import { randomBytes } from 'node:crypto';
import { createWriteStream, linkSync, mkdirSync, rmSync, statfsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DROP_PURPOSE, dropKind, uploadNameProblem } from '../../shared/drop';
import { HangarError, toErrorData } from '../../shared/errors';
import type { FileGrants } from './types';
import { SECURITY_HEADERS } from './responses';

/** Left free on the disk after the copy: a full disk breaks more than this upload. */
const RESERVE_BYTES = 512 * 2 ** 20;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json',
    'Content-Length': String(text.length),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** Counts the bytes through and fails past `limit`: Content-Length is the client's word only. */
function capped(limit: number): Transform & { seen: () => number } {
  let seen = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) done(new HangarError('INVALID_INPUT', 'The upload is longer than it said.'));
      else done(null, chunk);
    },
  });
  return Object.assign(t, { seen: () => seen });
}

/** "name.iso", then "name (1).iso", ...: linked into place, so an existing file is never replaced. */
function placeWithoutClobbering(tmp: string, dir: string, name: string): string {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 0; n < 1000; n++) {
    const path = join(dir, n ? `${stem} (${n})${ext}` : name);
    try {
      linkSync(tmp, path);
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new HangarError('CONFLICT', `Too many files named like ${name} in ${dir}.`);
}

export async function receiveUpload(
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  files: FileGrants,
): Promise<void> {
  const fail = (status: number, err: unknown) =>
    sendJson(res, status, { ok: false, error: toErrorData(err) });
  if (req.method !== 'PUT') return fail(405, new HangarError('INVALID_INPUT', 'Uploads are PUT requests.'));
  const name = query.get('name') ?? '';
  const problem = uploadNameProblem(name);
  if (problem) return fail(400, new HangarError('INVALID_INPUT', problem));
  const length = Number(req.headers['content-length']);
  if (!Number.isSafeInteger(length) || length <= 0)
    return fail(411, new HangarError('INVALID_INPUT', 'An upload must say its length (Content-Length).'));
  const dir = join(files.home(), 'Downloads');
  let free: number;
  try {
    mkdirSync(dir, { recursive: true });
    const st = statfsSync(dir);
    free = st.bavail * st.bsize;
  } catch (err) {
    return fail(
      500,
      new HangarError(
        'IO_ERROR',
        `Cannot save into ${dir}: ${(err as Error).message}. Choose the file with Choose… instead.`,
      ),
    );
  }
  if (free < length + RESERVE_BYTES)
    return fail(
      507,
      new HangarError(
        'IO_ERROR',
        `${name} needs ${length} bytes in ${dir}, which has ${free} free (and must keep ` +
          `${RESERVE_BYTES} for other work). Free some space, or choose the file with Choose… instead.`,
      ),
    );
  // A hidden name beside the target until every byte is in, so a half upload is never taken for a file.
  const tmp = join(dir, `.${name}.hangar-upload-${randomBytes(6).toString('hex')}`);
  const counter = capped(length);
  try {
    await pipeline(req, counter, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
    if (counter.seen() !== length)
      throw new HangarError('INVALID_INPUT', `The upload ended after ${counter.seen()} of ${length} bytes.`);
    const path = placeWithoutClobbering(tmp, dir, name);
    const outcome = await files.grant(path, DROP_PURPOSE[dropKind(name)!]);
    if (!outcome.ok)
      throw new HangarError(
        'CONFLICT',
        `${name} was saved to ${path}, but it is built on other files: choose it with Choose… to confirm them.`,
      );
    sendJson(res, 200, { ok: true, file: outcome.file });
  } catch (err) {
    if (!res.headersSent) fail(err instanceof HangarError ? 400 : 500, err);
  } finally {
    rmSync(tmp, { force: true });
  }
}
