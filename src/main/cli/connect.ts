// How the CLI reaches the engine: as a client of the engine that is already running (the app or
// `hangar serve`), or, when none runs, by running one in this process for the command's length.
import { Engine } from '../engine/engine';
import { hangarHome } from '../engine/config/paths';
import { createDispatcher } from '../api/dispatch';
import { readEndpoint } from '../api/endpoint';
import { connectWs, type ApiClient } from '../api/ws-client';
import { HangarError } from '../../shared/errors';

export async function connectEngine(env: NodeJS.ProcessEnv = process.env): Promise<ApiClient> {
  const home = hangarHome(env);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ep = readEndpoint(home, env);
    if (ep) return connectWs(ep);
    try {
      const engine = await Engine.open({ home, env });
      const d = createDispatcher(engine);
      const unsubscribers: (() => void)[] = [];
      return {
        call: (method, params) => d.call(method, params),
        onEvent: (l) => void unsubscribers.push(d.subscribe(l)),
        close: async () => {
          unsubscribers.forEach((u) => u());
          await engine.close();
        },
      };
    } catch (err) {
      // Another CLI command holds the engine for a moment; wait for it rather than fail.
      if (!(err instanceof HangarError && err.code === 'BUSY' && err.details?.pid) || Date.now() > deadline)
        throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
