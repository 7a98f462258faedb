// Serves the built renderer. Paths are checked twice: lexically (security.ts) and again after
// symlinks are resolved, so a link inside the build cannot expose the rest of the disk.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { isInside, resolveStaticPath } from './security';
import { SECURITY_HEADERS, sendText } from './responses';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

const NOT_BUILT_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hangar</title></head>
<body><h1>Hangar</h1><p>The user interface is not built yet. Run <code>npm run build</code>, then
reload this page.</p></body></html>
`;

async function existingDir(dir: string | undefined): Promise<string | null> {
  if (!dir) return null;
  try {
    const real = await realpath(resolve(dir));
    return (await stat(real)).isDirectory() ? real : null;
  } catch {
    return null;
  }
}

/** Answers GET/HEAD for an already authorized request. */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  staticDir: string | undefined,
  rawPath: string,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'Only GET and HEAD are served here.\n', { Allow: 'GET, HEAD' });
    return;
  }
  const root = await existingDir(staticDir);
  if (root === null) {
    if (rawPath === '/' || rawPath === '/index.html') {
      const body = Buffer.from(NOT_BUILT_HTML, 'utf8');
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': String(body.length),
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } else sendText(res, 404, 'Not found (the user interface is not built: run npm run build).\n');
    return;
  }
  const file = resolveStaticPath(root, rawPath);
  if (file === null) {
    sendText(res, 403, 'Forbidden path.\n');
    return;
  }
  let real: string;
  let size: number;
  try {
    real = await realpath(file);
    const st = await stat(real);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    sendText(res, 404, 'Not found.\n');
    return;
  }
  if (!isInside(root, real)) {
    sendText(res, 403, 'Forbidden path.\n');
    return;
  }
  const isHtml = extname(real).toLowerCase() === '.html';
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': contentTypeFor(real),
    'Content-Length': String(size),
    // index.html names the hashed assets of the current build, so it must never be stale.
    'Cache-Control': isHtml ? 'no-store' : 'private, no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  try {
    await pipeline(createReadStream(real), res);
  } catch {
    // Client went away mid-file, or the file vanished after stat: the response is already committed.
    res.destroy();
  }
}
