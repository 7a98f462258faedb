import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { fanOutEvents } from './events';

/** The fan-out needs only the engine's events. */
function fakeEngine() {
  const emitter = new EventEmitter();
  return { engine: emitter, emitter };
}

describe('event fan-out', () => {
  it('serves 50 clients through one listener per event, without a MaxListeners warning', () => {
    const { engine, emitter } = fakeEngine();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const fan = fanOutEvents(engine);
    const got: string[][] = [];
    const unsubscribe = Array.from({ length: 50 }, (_, i) => {
      got[i] = [];
      return fan.add((event, data) => got[i]!.push(`${event}:${(data as { id: string }).id}`));
    });
    expect(emitter.listenerCount('state')).toBe(1);
    expect(emitter.listenerCount('readiness')).toBe(1);
    emitter.emit('state', { id: 'a' });
    emitter.emit('readiness', { id: 'b', readiness: null });
    expect(got.every((g) => g.join() === 'state:a,readiness:b')).toBe(true);
    for (const u of unsubscribe.slice(0, 49)) u();
    emitter.emit('busy', { id: 'c' });
    emitter.emit('stats', { id: 'd', samples: [] });
    expect(got[0]).toHaveLength(2);
    expect(got[49]).toEqual(['state:a', 'readiness:b', 'busy:c', 'stats:d']);
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('keeps delivering to the others when one client throws', () => {
    const { engine, emitter } = fakeEngine();
    const fan = fanOutEvents(engine);
    const got: string[] = [];
    fan.add(() => {
      throw new Error('broken client');
    });
    fan.add((event) => got.push(event));
    emitter.emit('config', { id: 'x', config: null });
    expect(got).toEqual(['config']);
  });
});
