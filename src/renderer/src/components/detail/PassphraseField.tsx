// One passphrase input for encrypted backups: a password field with its label and, when given, a
// line saying why it is asked for. The value is the caller's component state, never a store's,
// so it is gone when the form closes. No maxLength: a pasted passphrase cut short without a word
// would encrypt with one the user never typed (the engine's limit is checked, and said, instead).
import type { ReactNode } from 'react';

export function PassphraseField(p: {
  id: string;
  value: string;
  onChange: (value: string) => void;
  testId: string;
  label?: string;
  /** 'new-password' for a passphrase being chosen, so password managers offer to make one. */
  autoComplete?: 'current-password' | 'new-password';
  hint?: ReactNode;
  /** The id of an error shown elsewhere that this field's value causes. */
  errorId?: string | null;
  disabled?: boolean;
  autoFocus?: boolean;
}) {
  const described = [p.hint ? `${p.id}-hint` : null, p.errorId ?? null].filter(Boolean).join(' ');
  return (
    <div className="passphrase-field">
      <label htmlFor={p.id}>{p.label ?? 'Passphrase'}</label>
      <input
        id={p.id}
        type="password"
        data-testid={p.testId}
        value={p.value}
        autoComplete={p.autoComplete ?? 'current-password'}
        spellCheck={false}
        disabled={p.disabled}
        autoFocus={p.autoFocus}
        aria-invalid={p.errorId ? true : undefined}
        aria-describedby={described || undefined}
        onChange={(e) => p.onChange(e.target.value)}
      />
      {p.hint && (
        <p id={`${p.id}-hint`} className="muted passphrase-hint">
          {p.hint}
        </p>
      )}
    </div>
  );
}
