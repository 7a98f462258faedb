// Messages for the user: every failure shows the engine's own message, which says what to do.
import { create } from 'zustand';
import { RemoteError } from '../api/client';

export interface Notice {
  id: number;
  kind: 'error' | 'info';
  title: string;
  message: string;
}

let next = 1;
export const useNotices = create<{ notices: Notice[] }>(() => ({ notices: [] }));

export function notify(kind: Notice['kind'], title: string, message: string): void {
  const n = { id: next++, kind, title, message };
  useNotices.setState((s) => ({ notices: [...s.notices.slice(-4), n] }));
  if (kind === 'info') setTimeout(() => dismiss(n.id), 5000);
}

export function dismiss(id: number): void {
  useNotices.setState((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

export function errorMessage(err: unknown): string {
  return err instanceof RemoteError || err instanceof Error ? err.message : String(err);
}

/** Runs an action and reports its failure; returns undefined when it failed. */
export async function attempt<T>(title: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    notify('error', title, errorMessage(err));
    return undefined;
  }
}
