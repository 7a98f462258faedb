// `hangar serve`: runs the engine with its host server in the foreground, for the browser UI
// and for CLI commands started meanwhile. Stopping it leaves the VMs running.
import { join } from 'node:path';
import { openHost } from '../shell/host';

export interface Served {
  url: string;
  stop(): Promise<void>;
}

export async function serve(
  options: { env?: NodeJS.ProcessEnv; port?: number; staticDir?: string } = {},
): Promise<Served> {
  // out/main/cli.js is an entry, so its directory is out/main and the renderer sits beside it.
  const staticDir = options.staticDir ?? join(import.meta.dirname, '..', 'renderer');
  const host = await openHost({ env: options.env, port: options.port, staticDir });
  return { url: host.url, stop: () => host.stop() };
}
