// Named event listeners and one-shot waits. A wait is registered synchronously when asked for, so a
// caller can start waiting before it sends the command that causes the event: QEMU may write the event
// before the command's reply, and it must not be lost in between.
import { QmpDisconnectedError, QmpEventTimeoutError } from './errors';
import type { QmpCloseReason, QmpEvent, QmpEventListener, QmpWaitForEventOptions } from './types';

/** Listening to this name receives every event. */
export const ANY_EVENT = '*';

export class EventListeners {
  private readonly byName = new Map<string, Set<QmpEventListener>>();
  private readonly waits = new Set<(reason: QmpCloseReason) => void>();

  constructor(private readonly onListenerError: (err: unknown, event: QmpEvent) => void) {}

  on<D = Record<string, unknown>>(name: string, listener: QmpEventListener<D>): () => void {
    const fn = listener as QmpEventListener;
    let set = this.byName.get(name);
    if (!set) this.byName.set(name, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.byName.get(name) === set) this.byName.delete(name);
    };
  }

  wait<D = Record<string, unknown>>(
    name: string,
    options: QmpWaitForEventOptions<D>,
    defaultTimeoutMs: number,
  ): Promise<QmpEvent<D>> {
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        off();
        clearTimeout(timer);
        this.waits.delete(onClose);
      };
      const off = this.on<D>(name, (event) => {
        let match: boolean;
        try {
          match = options.predicate ? options.predicate(event) : true;
        } catch (err) {
          finish();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (match) {
          finish();
          resolve(event);
        }
      });
      const onClose = (reason: QmpCloseReason) => {
        finish();
        reject(new QmpDisconnectedError(`event ${name}`, reason));
      };
      this.waits.add(onClose);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          finish();
          reject(new QmpEventTimeoutError(name, timeoutMs));
        }, timeoutMs);
      }
    });
  }

  /** Calls listeners in the order they were added; one that throws does not stop the others. */
  dispatch(event: QmpEvent): void {
    const listeners = [...(this.byName.get(event.event) ?? []), ...(this.byName.get(ANY_EVENT) ?? [])];
    for (const fn of listeners) {
      try {
        fn(event);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }

  /** Pending waits fail when the connection ends: the event they wait for cannot come on it any more. */
  rejectWaits(reason: QmpCloseReason): void {
    for (const onClose of [...this.waits]) onClose(reason);
  }
}
