// Locks on VMs (and anything else named by a key) for operations that touch several at once: a
// linked clone reads its template, a delete must not race a clone being built on it. Each
// operation declares every key it touches with a mode, and takes all of them or none.
//
// Nothing ever waits: a claim that conflicts fails at once with BUSY naming the holder, so no
// operation can hold one lock while waiting for another and deadlock is impossible. Claims are
// still taken in one fixed order (sorted keys), so the holder named in the error is stable.
import { HangarError } from '../../../shared/errors';

/** Readers share a key (two linked clones of one template); a writer has it alone. */
export type LockMode = 'read' | 'write';

export interface Claim {
  key: string;
  mode: LockMode;
  /** What the error says the key is, e.g. `the template "base"`; defaults to "the VM". */
  label?: string;
}

interface Held {
  writer: string | null;
  readers: string[];
}

export class LockTable {
  private readonly held = new Map<string, Held>();

  /** What holds `key`: the writer's operation, else the first reader's, else null. */
  holder(key: string): string | null {
    const h = this.held.get(key);
    return h?.writer ?? h?.readers[0] ?? null;
  }

  /**
   * Takes every claim for `operation`, or throws BUSY and takes none. Returns the release
   * function, which gives back exactly what was taken (once).
   */
  acquire(claims: Claim[], operation: string): () => void {
    const merged = mergeClaims(claims);
    for (const c of merged) {
      const h = this.held.get(c.key);
      if (!h) continue;
      const current = h.writer ?? (c.mode === 'write' ? h.readers[0] : undefined);
      if (current) {
        throw new HangarError(
          'BUSY',
          `${capitalise(c.label ?? 'the VM')} is busy: ${current} is under way. Try again when it has finished.`,
          { operation: current, key: c.key },
        );
      }
    }
    for (const c of merged) {
      const h = this.held.get(c.key) ?? { writer: null, readers: [] };
      if (c.mode === 'write') h.writer = operation;
      else h.readers.push(operation);
      this.held.set(c.key, h);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const c of merged) {
        const h = this.held.get(c.key);
        if (!h) continue;
        if (c.mode === 'write') h.writer = null;
        else h.readers.splice(h.readers.indexOf(operation), 1);
        if (!h.writer && !h.readers.length) this.held.delete(c.key);
      }
    };
  }
}

/** One claim per key, sorted; a key claimed both ways is a write. */
export function mergeClaims(claims: Claim[]): Claim[] {
  const byKey = new Map<string, Claim>();
  for (const c of claims) {
    const prev = byKey.get(c.key);
    byKey.set(c.key, prev && prev.mode === 'write' ? prev : { ...c, label: c.label ?? prev?.label });
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
