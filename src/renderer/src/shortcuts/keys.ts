// Which app shortcut a key press means, decided apart from the DOM so it can be tested alone.
// Keys pressed in the graphical console or the serial terminal belong to the guest, and keys in
// a dialog to the dialog; while the user types in a field only Ctrl+N is the app's.
export type Shortcut = 'new' | 'filter' | 'back' | 'help';

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  defaultPrevented: boolean;
}

export interface KeyTarget {
  typing: boolean;
  inConsole: boolean;
  inDialog: boolean;
}

/** The shortcuts the sheet lists, in its order; the console's release key is the same as Serial's. */
export const SHEET: { keys: string; does: string }[] = [
  { keys: 'Ctrl+N', does: 'New virtual machine' },
  { keys: '/', does: 'Filter the VM list by name' },
  { keys: 'Enter', does: 'Open the VM whose name has focus' },
  { keys: 'Escape', does: 'Back to the VM list (from a VM, Labs or the Library)' },
  {
    keys: 'Shift+Tab',
    does: 'Leave the graphical console or the serial terminal (keys go to the guest until then)',
  },
  { keys: '?', does: 'Show this list' },
];

export function shortcutFor(e: KeyPress, at: KeyTarget): Shortcut | null {
  if (e.defaultPrevented || at.inConsole || at.inDialog || e.altKey) return null;
  const mod = e.ctrlKey || e.metaKey;
  if (mod && e.key.toLowerCase() === 'n') return 'new';
  if (mod || at.typing) return null;
  if (e.key === '/') return 'filter';
  if (e.key === '?') return 'help';
  if (e.key === 'Escape') return 'back';
  return null;
}
