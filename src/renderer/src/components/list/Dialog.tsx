// A small modal on the native <dialog>: the browser traps focus, Escape closes it, and focus goes
// back to the button that opened it. Opened in an effect because showModal() needs the element.
import { useEffect, useRef, type ReactNode } from 'react';

interface Props {
  title: string;
  children: ReactNode;
  onClose: () => void;
  testId?: string;
}

export function Dialog({ title, children, onClose, testId }: Props) {
  const ref = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (el && !el.open) el.showModal();
    return () => {
      if (el?.open) el.close();
    };
  }, []);

  // Escape closes the element natively; tell the owner so its state follows. At once, on 'cancel'
  // (fired with the Escape key): the 'close' event comes a task later, and a key pressed in between
  // met a dialog already shut but still open in the owner's state (CI lost a '?' so).
  useEffect(() => {
    const el = ref.current;
    const cancel = (e: Event) => {
      e.preventDefault(); // the owner unmounts it, which closes it
      onClose();
    };
    el?.addEventListener('cancel', cancel);
    el?.addEventListener('close', onClose);
    return () => {
      el?.removeEventListener('cancel', cancel);
      el?.removeEventListener('close', onClose);
    };
  }, [onClose]);

  return (
    <dialog ref={ref} className="list-dialog" aria-label={title} data-testid={testId}>
      <h2 className="list-dialog-title">{title}</h2>
      {children}
    </dialog>
  );
}
