// Files the user picked. The renderer is untrusted (an XSS or a compromised renderer must not be
// able to attach ~/.ssh/id_ed25519 as a disk, or probe the disk with disk.info), so it never names
// a host file: the user chooses one in a file dialog it cannot script (the desktop app's native
// dialog, or the host server's picker on an origin of its own), the engine records the choice
// here and hands the renderer an unguessable reference, `grant:<id>`, which the dispatcher swaps
// for the path before anything else sees the request (api/callers.ts). The CLI, run by the
// user, still names paths itself.
//
// What a grant promises, and what it does not:
//   - it is made only for a path the host-path policy accepts (paths.ts), so it never points into
//     Hangar's own data, and it records the real path; using it runs the policy again;
//   - it is for one purpose (an ISO, a disk, a kernel, an initrd): a file chosen as a read-only
//     ISO cannot come back as a disk the VM writes;
//   - a disk grant carries the backing chain the user confirmed in that same trusted dialog, so a
//     confirmation is never the renderer's word (a checkbox in the page could be ticked by script);
//   - entries expire (30 minutes after their last use) and are bounded in number, so the table
//     cannot grow without end; the oldest go first.
import { randomBytes } from 'node:crypto';
import { HangarError } from '../../../shared/errors';
import { isGrantRef, type PickPurpose } from '../../../shared/requests';
import { checkHostPath, type PathPolicy, type PathUse } from './paths';
import { checkShareFolder } from '../share/folder';

export const GRANT_TTL_MS = 30 * 60 * 1000;
export const MAX_GRANTS = 256;
const PREFIX = 'grant:';

export interface Grant {
  /** The real path the policy accepted when the user chose it. */
  path: string;
  purpose: PickPurpose;
  /** The backing chain the user confirmed for a disk (real paths, nearest first); null: none asked. */
  chain: string[] | null;
  expiresAt: number;
}

export interface GrantOptions {
  ttlMs?: number;
  max?: number;
  /** For tests: the clock. */
  now?: () => number;
}

export const PURPOSE_USE: Readonly<Record<PickPurpose, PathUse | 'folder to share'>> = {
  iso: 'ISO image',
  disk: 'disk image',
  kernel: 'kernel',
  initrd: 'initrd',
  file: 'file to copy',
  folder: 'folder to share',
};

function sameChain(a: string[] | null, b: string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

export class GrantTable {
  /** Keyed by id; Map order is the order of last use, so the first entry is the one to drop. */
  private readonly entries = new Map<string, Grant>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(
    private readonly policy: PathPolicy,
    options: GrantOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? GRANT_TTL_MS;
    this.max = options.max ?? MAX_GRANTS;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  /**
   * Grants a file the user chose for `purpose`: the policy checks it first (its error is thrown
   * and nothing is recorded), and the real path is what the grant holds. The same file chosen
   * again for the same purpose and chain gets its existing reference back, refreshed.
   */
  grant(path: string, purpose: PickPurpose, confirmedChain: string[] | null = null): string {
    const real = checked(this.policy, path, purpose);
    this.sweep();
    const chain = confirmedChain ? [...confirmedChain] : null;
    for (const [id, g] of this.entries) {
      if (g.path === real && g.purpose === purpose && sameChain(g.chain, chain)) {
        this.touch(id, g);
        return PREFIX + id;
      }
    }
    while (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    // 128 random bits: a reference cannot be guessed, only handed out.
    const id = randomBytes(16).toString('base64url');
    this.entries.set(id, { path: real, purpose, chain, expiresAt: this.now() + this.ttlMs });
    return PREFIX + id;
  }

  /**
   * The grant behind a reference, for a use of `purpose`. Refused: a malformed reference, one that
   * is unknown or expired, one made for another purpose, and a file that is no longer what the
   * policy accepted (its path now leads elsewhere, or it is gone).
   */
  resolve(ref: string, purpose: PickPurpose): Grant {
    if (!isGrantRef(ref))
      throw new HangarError(
        'INVALID_INPUT',
        'That is not a file chosen with the picker: choose the file again.',
      );
    this.sweep();
    const id = ref.slice(PREFIX.length);
    const g = this.entries.get(id);
    if (!g) {
      throw new HangarError(
        'NOT_FOUND',
        `That file choice is unknown or has expired (a choice lasts ${Math.round(this.ttlMs / 60000)} ` +
          'minutes): choose the file again.',
      );
    }
    if (g.purpose !== purpose) {
      throw new HangarError(
        'INVALID_INPUT',
        `${g.path} was chosen as ${article(PURPOSE_USE[g.purpose])}, not as ${article(PURPOSE_USE[purpose])}: ` +
          'choose it again for this.',
        { path: g.path },
      );
    }
    const real = checked(this.policy, g.path, purpose);
    if (real !== g.path) {
      throw new HangarError(
        'CONFLICT',
        `${g.path} has become a link to ${real} since it was chosen; choose the file again.`,
        { path: g.path, real },
      );
    }
    this.touch(id, g);
    return { ...g, chain: g.chain ? [...g.chain] : null };
  }

  private touch(id: string, g: Grant): void {
    this.entries.delete(id);
    g.expiresAt = this.now() + this.ttlMs;
    this.entries.set(id, g);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, g] of this.entries) if (g.expiresAt <= now) this.entries.delete(id);
  }
}

/** The real path the policy accepts for a purpose: a folder to share has rules of its own. */
function checked(policy: PathPolicy, path: string, purpose: PickPurpose): string {
  return purpose === 'folder'
    ? checkShareFolder(policy, path)
    : checkHostPath(policy, path, PURPOSE_USE[purpose] as PathUse).path;
}

function article(use: string): string {
  return /^[aeiou]/i.test(use) ? `an ${use}` : `a ${use}`;
}
