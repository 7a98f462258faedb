// A value that lives outside React and tells subscribers when it changes; components read it with
// useSyncExternalStore, so console sessions can outlive the components that show them.
export class Observable<T> {
  private readonly listeners = new Set<() => void>();

  constructor(private value: T) {}

  readonly get = (): T => this.value;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  set(value: T): void {
    this.value = value;
    for (const l of this.listeners) l();
  }
}

export type LinkState = 'connecting' | 'connected' | 'disconnected';

export interface LinkStatus {
  state: LinkState;
  /** Why it is disconnected, in words for the user; empty otherwise. */
  reason: string;
}

/** Close codes the host server's console bridge uses, turned into something a person can act on. */
export function closeReason(ev: CloseEvent): string {
  if (ev.reason) return ev.reason;
  if (ev.code === 1000) return 'The console closed.';
  if (ev.code === 1006) return 'The connection to the engine was lost.';
  return `The console closed (code ${ev.code}).`;
}
