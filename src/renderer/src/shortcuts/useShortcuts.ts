// The app's keyboard shortcuts, on the window: see keys.ts for which key means what and when.
import { useLayoutEffect } from 'react';
import { navigate, useRoute } from '../store/ui';
import { shortcutFor } from './keys';

function focusFilter(): void {
  // The list may still be rendering after the route change.
  requestAnimationFrame(() =>
    document.querySelector<HTMLInputElement>('[data-testid="filter-name"]')?.focus(),
  );
}

export function useShortcuts(openSheet: () => void): void {
  // A layout effect runs before the first paint: a key pressed as soon as the page shows (CI saw
  // '?' lost once, right after the heading appeared) already has its listener.
  useLayoutEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target instanceof Element ? e.target : null;
      const at = {
        typing: !!el?.closest('input, textarea, select, [contenteditable="true"]'),
        inConsole: !!el?.closest('.console-screen, .term-container, .xterm'),
        // Only an open dialog owns keys: right after Escape closes one, its button can keep focus
        // (hidden, not yet blurred) for the next key, which CI saw swallow a Ctrl+N.
        inDialog: !!el?.closest('dialog[open]'),
      };
      const shortcut = shortcutFor(e, at);
      if (!shortcut) return;
      const route = useRoute.getState().route;
      if (shortcut === 'back' && (route.kind === 'list' || route.kind === 'new')) return; // the wizard has Cancel: Escape never throws a form away
      // Nor do Escape and Ctrl+N throw away unsaved edits elsewhere (the Settings form marks them).
      if ((shortcut === 'back' || shortcut === 'new') && document.querySelector('form[data-dirty="true"]'))
        return;
      e.preventDefault();
      if (shortcut === 'new') navigate({ kind: 'new' });
      else if (shortcut === 'help') openSheet();
      else if (shortcut === 'back') navigate({ kind: 'list' });
      else {
        if (route.kind !== 'list') navigate({ kind: 'list' });
        focusFilter();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [openSheet]);
}
