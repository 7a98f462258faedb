// `hangar serve`: runs the engine with its host server in the foreground, for the browser UI
// and for CLI commands started meanwhile. Stopping it leaves the VMs running.
import { join } from 'node:path';
import { Engine } from '../engine/engine';
import { hangarHome } from '../engine/config/paths';
import { createDispatcher } from '../api/dispatch';
import { removeEndpoint, writeEndpoint } from '../api/endpoint';
import { startHostServer } from '../server';

export interface Served {
  url: string;
  stop(): Promise<void>;
}

export async function serve(
  options: { env?: NodeJS.ProcessEnv; port?: number; staticDir?: string } = {},
): Promise<Served> {
  const env = options.env ?? process.env;
  const home = hangarHome(env);
  const engine = await Engine.open({ home, env });
  const staticDir = options.staticDir ?? join(import.meta.dirname, '..', 'renderer');
  let server;
  try {
    server = await startHostServer({
      dispatcher: createDispatcher(engine),
      staticDir,
      port: options.port ?? 0,
    });
  } catch (err) {
    await engine.close();
    throw err;
  }
  writeEndpoint(home, env, { pid: process.pid, port: server.port, token: server.token });
  return {
    url: server.url,
    async stop() {
      removeEndpoint(home, env);
      await server.close();
      await engine.close();
    },
  };
}
