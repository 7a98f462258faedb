// Helpers that belong to one engine but that the engine does not build itself (the readiness
// watch, the stats sampler): made on first use, one per engine, and closed with it.
import type { EngineContext } from './context';

export function perEngine<T extends { close(): void }>(
  make: (engine: EngineContext) => T,
): (engine: EngineContext) => T {
  const made = new WeakMap<EngineContext, T>();
  return (engine) => {
    let it = made.get(engine);
    if (!it) {
      const fresh = make(engine);
      engine.onClose(() => fresh.close());
      made.set(engine, fresh);
      it = fresh;
    }
    return it;
  };
}
