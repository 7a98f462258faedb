// The engine plus its host server, opened the way `hangar serve` opens them but keeping hold of the
// dispatcher, port and token, which the Electron shell needs for IPC, the preload's console URLs
// (the port) and a dev server page's console handshake (the token, as a header). No electron
// import here, so src/main/cli/serve.ts can be reduced to a call of openHost().
import { Engine } from '../engine/engine';
import { hangarHome } from '../engine/config/paths';
import { createDispatcher, type Dispatcher } from '../api/dispatch';
import { removeEndpoint, writeEndpoint } from '../api/endpoint';
import { startHostServer } from '../server';

export interface Host {
  dispatcher: Dispatcher;
  /** First-load URL with the token; the server trades it for a cookie and redirects to basePath. */
  url: string;
  /** `http://127.0.0.1:PORT`: the only origin the shell trusts. */
  origin: string;
  port: number;
  token: string;
  /** `/s/<random>/`, under which the server serves everything; a secret like the token. */
  basePath: string;
  /** Stops serving and detaches from the VMs, which keep running. Safe to call twice. */
  stop(): Promise<void>;
}

export interface HostOptions {
  env?: NodeJS.ProcessEnv;
  port?: number;
  /**
   * The built renderer. Required: computed from import.meta.dirname here, it would point into
   * out/main/chunks as soon as the bundler moved this module into a chunk shared by two entries.
   */
  staticDir: string;
}

export async function openHost(options: HostOptions): Promise<Host> {
  const env = options.env ?? process.env;
  const home = hangarHome(env);
  const engine = await Engine.open({ home, env });
  const dispatcher = createDispatcher(engine);
  let server;
  try {
    server = await startHostServer({
      dispatcher,
      staticDir: options.staticDir,
      port: options.port ?? 0,
    });
  } catch (err) {
    await engine.close();
    throw err;
  }
  // Recorded so that a CLI started while the app runs becomes a client instead of a rival engine.
  writeEndpoint(home, env, { pid: process.pid, port: server.port, token: server.token });
  let stopping: Promise<void> | null = null;
  return {
    dispatcher,
    url: server.url,
    origin: `http://127.0.0.1:${server.port}`,
    port: server.port,
    token: server.token,
    basePath: server.basePath,
    stop() {
      stopping ??= (async () => {
        removeEndpoint(home, env);
        await server.close();
        await engine.close();
      })();
      return stopping;
    },
  };
}
