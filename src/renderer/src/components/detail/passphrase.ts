// The rules for a backup passphrase as the page sees them: what blocks a new one, the key as the
// API takes it, and whether a prune must rewrite an encrypted point. Pure, so they are tested
// without a page. The passphrase itself is never kept here: callers hold it in component state.
import type { BackupKey, BackupListEntry, BackupPruneResult } from '../../../../shared/backup';

/** The engine's limit (BackupKey): a longer one would be refused after the user typed it. */
export const PASSPHRASE_MAX = 1024;

/** Why a new passphrase and its confirmation cannot be used yet, or null. */
export function newPassphraseError(passphrase: string, confirm: string): string | null {
  if (passphrase === '') return 'Type a passphrase to encrypt with.';
  if (passphrase.length > PASSPHRASE_MAX) return `A passphrase has at most ${PASSPHRASE_MAX} characters.`;
  if (confirm === '') return 'Type the passphrase a second time, to confirm it.';
  if (passphrase !== confirm) return 'The two passphrases differ: type the same one in both fields.';
  return null;
}

/** The key to send: none for an empty field, as the API refuses an empty passphrase. */
export function keyOf(passphrase: string): BackupKey | null {
  return passphrase === '' ? null : { passphrase };
}

/**
 * Whether the prune a dry run planned rewrites an encrypted point: one built on a removed point is
 * rewritten with that point's data, which needs the key. A point the list does not know (made
 * since it was loaded) may be encrypted, so it counts.
 */
export function pruneNeedsKey(plan: Pick<BackupPruneResult, 'merged'>, backups: BackupListEntry[]): boolean {
  const encrypted = new Map(backups.map((b) => [b.id, b.encrypted]));
  return plan.merged.some((m) => encrypted.get(m.into) !== false);
}
