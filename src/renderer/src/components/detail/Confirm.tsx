// Asking before something that cannot be undone: useConfirm() returns the dialog to render and an
// ask() that resolves to the user's answer, so callers read like `if (await ask(...)) ...`.
import { useCallback, useState, type ReactNode } from 'react';
import { Dialog } from './Dialog';

export interface ConfirmOptions {
  title: string;
  message: ReactNode;
  confirmLabel: string;
}

interface Pending extends ConfirmOptions {
  resolve: (yes: boolean) => void;
}

export function useConfirm(): [ReactNode, (o: ConfirmOptions) => Promise<boolean>] {
  const [pending, setPending] = useState<Pending | null>(null);
  const ask = useCallback(
    (o: ConfirmOptions) => new Promise<boolean>((resolve) => setPending({ ...o, resolve })),
    [],
  );
  const answer = (yes: boolean) => {
    pending?.resolve(yes);
    setPending(null);
  };
  const dialog = pending && (
    <Dialog title={pending.title} onClose={() => answer(false)} testId="confirm-dialog">
      <div className="detail-dialog-body">{pending.message}</div>
      <div className="detail-dialog-actions">
        {/* The safe answer has focus, so a stray Enter does not destroy anything. */}
        <button type="button" data-testid="confirm-no" autoFocus onClick={() => answer(false)}>
          Cancel
        </button>
        <button type="button" className="danger" data-testid="confirm-yes" onClick={() => answer(true)}>
          {pending.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
  return [dialog, ask];
}
