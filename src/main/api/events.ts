// Engine events to every client of a dispatcher through one set of engine listeners: clients come
// and go (browser tabs, the window), the engine sees the same six listeners throughout.
import type { EventEmitter } from 'node:events';
import type { EngineEvents } from '../engine/engine';

export type EventListener = (event: string, data: unknown) => void;

/** The events front ends mirror. */
const FORWARDED = [
  'state',
  'progress',
  'config',
  'busy',
  'readiness',
  'stats',
  'lab',
] as const satisfies readonly (keyof EngineEvents)[];

export function fanOutEvents(engine: Pick<EventEmitter, 'on'>): { add(listener: EventListener): () => void } {
  const clients = new Set<EventListener>();
  for (const name of FORWARDED) {
    engine.on(name, (data: unknown) => {
      // A client that throws must not keep the event from the others.
      for (const c of [...clients]) {
        try {
          c(name, data);
        } catch {
          // The transport logs its own failures; one bad client is not everyone's problem.
        }
      }
    });
  }
  return {
    add(listener) {
      clients.add(listener);
      return () => {
        clients.delete(listener);
      };
    },
  };
}
