// Asking for the passphrase of an encrypted backup before an action that reads it (a full verify,
// a drill, a restore in place, a prune that rewrites a point). useAskPassphrase() returns the
// dialog to render and an ask() that resolves to what was typed, or null for Cancel, so callers
// read like Confirm's. The typed text lives in the dialog's own state, gone once it closes; the
// caller uses it for one call and keeps it nowhere.
import { useCallback, useId, useState, type ReactNode } from 'react';
import { Dialog } from './Dialog';
import { PassphraseField } from './PassphraseField';

export interface AskPassphraseOptions {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  /** Something that cannot be undone gets the danger style, as in Confirm. */
  danger?: boolean;
}

interface Pending extends AskPassphraseOptions {
  resolve: (passphrase: string | null) => void;
}

export function useAskPassphrase(): [ReactNode, (o: AskPassphraseOptions) => Promise<string | null>] {
  const [pending, setPending] = useState<Pending | null>(null);
  const ask = useCallback(
    (o: AskPassphraseOptions) => new Promise<string | null>((resolve) => setPending({ ...o, resolve })),
    [],
  );
  const answer = (passphrase: string | null) => {
    pending?.resolve(passphrase);
    setPending(null);
  };
  const dialog = pending && <PassphraseDialog {...pending} onAnswer={answer} />;
  return [dialog, ask];
}

function PassphraseDialog(p: AskPassphraseOptions & { onAnswer: (passphrase: string | null) => void }) {
  const [passphrase, setPassphrase] = useState('');
  const id = useId();
  return (
    <Dialog title={p.title} onClose={() => p.onAnswer(null)} testId="passphrase-dialog">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (passphrase !== '') p.onAnswer(passphrase);
        }}
      >
        <div className="detail-dialog-body">
          {p.message}
          <PassphraseField
            id={`${id}-passphrase`}
            value={passphrase}
            onChange={setPassphrase}
            testId="passphrase-input"
            autoFocus
            hint="This backup is encrypted, and Hangar keeps no copy of its passphrase: type it each time."
          />
        </div>
        <div className="detail-dialog-actions">
          <button type="button" data-testid="passphrase-cancel" onClick={() => p.onAnswer(null)}>
            Cancel
          </button>
          <button
            type="submit"
            className={p.danger ? 'danger' : 'primary'}
            data-testid="passphrase-confirm"
            disabled={passphrase === ''}
          >
            {p.confirmLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
