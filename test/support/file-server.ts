// A local HTTP server standing in for the internet in the image-library tests: it serves files
// with Range support, and misbehaves on purpose under some prefixes (/drop/ breaks the first
// transfer half-way, /huge/ announces a length no disk has, anything unknown is a 404).
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileServer {
  url: string;
  /** Every request: its path and Range header. */
  log: { path: string; range: string | null }[];
  close(): Promise<void>;
}

export async function serveFiles(files: Record<string, string>): Promise<FileServer> {
  const log: FileServer['log'] = [];
  const dropped = new Set<string>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const range = req.headers.range ?? null;
    log.push({ path, range });
    if (path.startsWith('/huge/')) {
      res.writeHead(200, { 'content-length': String(2 ** 50), 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(1024));
      return; // never finishes; the client must refuse before reading on
    }
    const file = files[path.replace(/^\/drop\//, '/')];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const size = statSync(file).size;
    const m = range ? /^bytes=(\d+)-$/.exec(range) : null;
    const start = m ? Number(m[1]) : 0;
    if (start >= size && size > 0) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    const headers = { 'content-length': String(size - start), 'accept-ranges': 'bytes' };
    if (m) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${size - 1}/${size}` });
    else res.writeHead(200, headers);
    if (path.startsWith('/drop/') && !dropped.has(path)) {
      // Half of it, then the connection drops as a flaky network's would.
      dropped.add(path);
      const half = Math.floor(size / 2);
      createReadStream(file, { start, end: half - 1 })
        .on('end', () => res.socket?.destroy())
        .pipe(res, { end: false });
      return;
    }
    createReadStream(file, { start }).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
