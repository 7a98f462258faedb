// A VM's history as the Log tab and `hangar history` show it: state changes and operations, with
// their times and, for a failure, the error.
export interface JournalEntry {
  /** ISO time. */
  at: string;
  kind: 'state' | 'operation';
  /** The state entered, or the operation's name (start, snapshot, backup, ...). */
  what: string;
  ok: boolean;
  /** Why the state changed, or the operation's error. */
  detail?: string;
  /** How long the operation took. */
  ms?: number;
}
