// Key combinations the host would swallow (Ctrl+Alt+Del, Ctrl+Alt+F1, Alt+Tab) sent to the guest
// by the engine (QMP send-key), so they work whether or not the VNC view has focus.
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';

const COMBOS: { keys: string; label: string; testId?: string }[] = [
  { keys: 'ctrl-alt-delete', label: 'Ctrl+Alt+Del', testId: 'vnc-ctrl-alt-del' },
  { keys: 'ctrl-alt-f1', label: 'Ctrl+Alt+F1' },
  { keys: 'ctrl-alt-f2', label: 'Ctrl+Alt+F2' },
  { keys: 'ctrl-alt-f7', label: 'Ctrl+Alt+F7' },
  { keys: 'alt-tab', label: 'Alt+Tab' },
  { keys: 'alt-f4', label: 'Alt+F4' },
  { keys: 'meta_l', label: 'Windows / Super' },
  { keys: 'print', label: 'Print Screen' },
];

export function KeysMenu({ id, disabled }: { id: string; disabled: boolean }) {
  const [open, setOpen] = useState(false);
  const wrap = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    wrap.current?.querySelector<HTMLButtonElement>('[role="menuitem"]')?.focus();
    const onDown = (e: MouseEvent) => {
      if (!wrap.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  const send = (keys: string) => {
    close();
    void attempt('Could not send the keys', () => api('vm.sendKeys', { vm: id, keys }));
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const items = [...(wrap.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'Escape') close();
    else if (e.key === 'ArrowDown') items[(i + 1) % items.length]?.focus();
    else if (e.key === 'ArrowUp') items[(i - 1 + items.length) % items.length]?.focus();
    else if (e.key === 'Tab') setOpen(false);
    else return;
    if (e.key !== 'Tab') e.preventDefault();
  };

  return (
    <div className="console-menu-wrap" ref={wrap} onKeyDown={onKeyDown}>
      <button
        ref={button}
        type="button"
        data-testid="vnc-keys"
        aria-haspopup="menu"
        aria-expanded={open}
        disabled={disabled}
        onClick={() => setOpen((o) => !o)}
      >
        Send keys ▾
      </button>
      {open && (
        <div className="console-menu" role="menu" aria-label="Send keys">
          {COMBOS.map((c) => (
            <button
              key={c.keys}
              type="button"
              role="menuitem"
              data-testid={c.testId ?? `vnc-key-${c.keys}`}
              onClick={() => send(c.keys)}
            >
              {c.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
