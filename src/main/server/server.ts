// The host server: loopback-only HTTP for the built renderer, plus WebSockets for the API (api) and
// the console bridges (console/<kind>/<vmId>), all under a secret base path `/s/<random>/` (why:
// the top of security.ts). Outside the base every request gets the same 404; inside, Host, Origin
// and token checks come before anything else looks at it.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { HangarError } from '../../shared/errors';
import { API_MAX_MESSAGE_BYTES, attachApiSocket } from './api-socket';
import {
  attachConsoleBridge,
  CONSOLE_MAX_MESSAGE_BYTES,
  openConsole,
  selectConsoleProtocol,
} from './console-bridge';
import {
  NOT_FOUND_TEXT,
  rejectUpgrade,
  SECURITY_HEADERS,
  sendForwardPage,
  sendText,
  STATUS_TEXT,
  UNAUTHORIZED_TEXT,
} from './responses';
import {
  authorize,
  isValidTokenShape,
  localPathUnder,
  matchConsoleRoute,
  parseTarget,
  pathInsideBase,
  TOKEN_PARAM,
  tokenCookie,
  withoutToken,
} from './security';
import { serveStatic } from './static';
import { receiveUpload } from './upload';
import { startPicker, withPicker } from './picker';
import type { HostServer, HostServerOptions } from './types';

/** Never 0.0.0.0 or ::: the server is for this machine's browser only. */
const LISTEN_HOST = '127.0.0.1';

export async function startHostServer(opts: HostServerOptions): Promise<HostServer> {
  const token = opts.token ?? randomBytes(32).toString('hex');
  if (!isValidTokenShape(token)) {
    throw new HangarError(
      'INVALID_INPUT',
      'The host server token must be 16-256 characters of A-Z a-z 0-9 _ -.',
    );
  }
  const requestedPort = opts.port ?? 0;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) {
    throw new HangarError('INVALID_INPUT', `Port must be an integer from 0 to 65535, not ${requestedPort}.`);
  }
  const log = opts.log ?? (() => {});
  // With an engine that grants files, the browser UI's file picker runs beside the app on a port
  // of its own (picker.ts), and picker.* calls on the API sockets are answered by it.
  const picker = opts.dispatcher.files ? await startPicker(opts.dispatcher.files, { log }) : null;
  const dispatcher = picker ? withPicker(opts.dispatcher, picker) : opts.dispatcher;
  // 24 random bytes, 32 base64url characters: as unguessable as a token, and safe in a cookie Path.
  const basePath = `/s/${randomBytes(24).toString('base64url')}/`;
  let port = 0;

  // Origin checks and protocol selection happen here and in the upgrade handler, so ws's own
  // verifyClient is not used; perMessageDeflate stays off (CPU on small hosts, VNC data is compressed).
  const apiWss = new WebSocketServer({
    noServer: true,
    maxPayload: API_MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: () => false,
  });
  const consoleWss = new WebSocketServer({
    noServer: true,
    maxPayload: CONSOLE_MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    handleProtocols: (offered) => selectConsoleProtocol(offered),
  });

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = parseTarget(req.url);
    if (target === null) {
      sendText(res, 400, 'Bad request target.\n');
      return;
    }
    const inner = pathInsideBase(target.rawPath, basePath);
    if (inner === null) {
      // Before any other check, so that no header or token changes the answer.
      sendText(res, 404, NOT_FOUND_TEXT);
      return;
    }
    const queryToken = target.query.get(TOKEN_PARAM);
    const auth = authorize(
      { host: req.headers.host, origin: req.headers.origin, cookie: req.headers.cookie, queryToken },
      port,
      token,
      { requireOrigin: false },
    );
    if (!auth.ok) {
      log(`refused ${req.method} ${inner}: ${auth.reason}`);
      sendText(res, auth.status, auth.status === 401 ? UNAUTHORIZED_TEXT : `${auth.reason}\n`);
      return;
    }
    if (queryToken !== null) {
      // A stale token in the URL is refused even with a good cookie, so the user learns the link is old.
      if (auth.via !== 'query') {
        sendText(res, 401, UNAUTHORIZED_TEXT);
        return;
      }
      // Trade the token for a cookie and drop it from the address bar and history. The target goes
      // through the same local-path check whichever way the browser is sent on: no open redirect.
      const next = localPathUnder(basePath, withoutToken(target));
      const cookie = tokenCookie(token, basePath);
      if (req.headers['sec-fetch-site'] === 'cross-site') {
        // A navigation from another site (npm start's private file:// launch page): RFC 6265bis has
        // browsers withhold SameSite=Strict cookies along a redirect chain that began cross-site
        // (Chromium behind its CookieSameSiteConsidersRedirectChain switch), so `next` could answer
        // 401. A page that moves on by itself starts a new, same-origin navigation instead.
        sendForwardPage(res, next, { 'Set-Cookie': cookie });
        return;
      }
      res.writeHead(303, {
        ...SECURITY_HEADERS,
        'Set-Cookie': cookie,
        Location: next,
        'Cache-Control': 'no-store',
        'Content-Length': '0',
      });
      res.end();
      return;
    }
    if (inner === '/upload') {
      // A write: only our page sends it, and every browser sends Origin with a PUT (a form on
      // another site cannot PUT, and its fetch would carry that site's Origin).
      const strict = authorize(
        { host: req.headers.host, origin: req.headers.origin, cookie: req.headers.cookie, queryToken: null },
        port,
        token,
        { requireOrigin: true },
      );
      if (!strict.ok || !opts.dispatcher.files) {
        sendText(res, strict.ok ? 404 : strict.status, strict.ok ? NOT_FOUND_TEXT : `${strict.reason}\n`);
        return;
      }
      await receiveUpload(req, res, target.query, opts.dispatcher.files);
      return;
    }
    if (inner === '/api' || inner.startsWith('/console/')) {
      sendText(res, 426, 'This endpoint speaks WebSocket only.\n', { Upgrade: 'websocket' });
      return;
    }
    await serveStatic(req, res, opts.staticDir, inner);
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', (err) => log(`upgrade socket error: ${err.message}`));
    const target = parseTarget(req.url);
    if (target === null) {
      rejectUpgrade(socket, 400, 'Bad request target.');
      return;
    }
    const queryToken = target.query.get(TOKEN_PARAM);
    const inner = pathInsideBase(target.rawPath, basePath);
    if (inner === null) {
      // The one endpoint outside the base: /api for non-browser clients (the CLI's thin client,
      // src/main/api/ws-client.ts, knows the port and token from the private endpoint record but
      // not the base). The token must come in the query, never a cookie (a browser's cookie never
      // reaches this path anyway), with our Host and Origin; anything short of that gets the same
      // 404 as every other path out here.
      const cli =
        target.rawPath === '/api' &&
        authorize(
          { host: req.headers.host, origin: req.headers.origin, cookie: undefined, queryToken },
          port,
          token,
          { requireOrigin: true },
        ).ok;
      // The token holder is the user (the CLI reads it from the 0600 endpoint record): it may name
      // host paths itself. A page never has the token (its cookie is HttpOnly), so never gets here.
      if (cli) apiWss.handleUpgrade(req, socket, head, (ws) => attachApiSocket(ws, dispatcher, 'user', log));
      else rejectUpgrade(socket, 404, NOT_FOUND_TEXT);
      return;
    }
    const auth = authorize(
      { host: req.headers.host, origin: req.headers.origin, cookie: req.headers.cookie, queryToken },
      port,
      token,
      // Every browser sends Origin on a WebSocket handshake; one without it is not our page.
      { requireOrigin: true },
    );
    if (!auth.ok) {
      log(`refused upgrade ${inner}: ${auth.reason}`);
      rejectUpgrade(socket, auth.status, auth.status === 401 ? UNAUTHORIZED_TEXT : auth.reason);
      return;
    }
    if (inner === '/api') {
      // The app's own socket: whatever runs in the page is the renderer, which names no host file
      // itself (api/callers.ts): it passes grants for files the user picked.
      apiWss.handleUpgrade(req, socket, head, (ws) => attachApiSocket(ws, dispatcher, 'renderer', log));
      return;
    }
    const route = matchConsoleRoute(inner);
    if (route !== null) {
      const target = openConsole(dispatcher, route.vmId, route.kind, log);
      // A handshake ws refuses (a wrong subprotocol, say) never reaches the callback.
      const abandon = () => target.abandon();
      socket.once('close', abandon);
      consoleWss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('close', abandon);
        attachConsoleBridge(ws, target, route.vmId, route.kind, log);
      });
      return;
    }
    rejectUpgrade(socket, 404, `${STATUS_TEXT[404]}: no WebSocket endpoint here.`);
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log(`request failed: ${String(err)}`);
      if (!res.headersSent) sendText(res, 500, 'Internal error.\n');
      else res.destroy();
    });
  });
  server.on('upgrade', onUpgrade);
  // A dropped disk image may take longer than Node's default 5 minutes to upload; headers still
  // have their own timeout, and the server listens on loopback only.
  server.requestTimeout = 0;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      void picker?.close();
      reject(
        err.code === 'EADDRINUSE'
          ? new HangarError('BUSY', `Port ${requestedPort} on ${LISTEN_HOST} is in use; choose another.`)
          : new HangarError('IO_ERROR', `The host server could not listen: ${err.message}`),
      );
    };
    server.once('error', onError);
    server.listen({ host: LISTEN_HOST, port: requestedPort, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log(`server error: ${err.message}`));
  const boundAddress = server.address() as AddressInfo;
  port = boundAddress.port;

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const ws of [...apiWss.clients, ...consoleWss.clients]) ws.close(1001, 'Server shutting down');
      apiWss.close();
      consoleWss.close();
      server.close(() => resolve());
      // Give close frames a moment, then cut whatever is left so close() cannot hang.
      setTimeout(() => {
        for (const ws of [...apiWss.clients, ...consoleWss.clients]) ws.terminate();
        server.closeAllConnections();
      }, 200).unref();
      server.closeIdleConnections();
    }).then(() => picker?.close());
    return closing;
  };

  return {
    url: `http://${LISTEN_HOST}:${port}${basePath}?${TOKEN_PARAM}=${token}`,
    port,
    token,
    basePath,
    address: () => ({ ...boundAddress }),
    close,
  };
}
