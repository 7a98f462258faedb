// Copies a text to the clipboard. The button always reads "Copy" (its accessible name is "Copy"
// and what it copies); the outcome is announced beside it, in a status region, because the
// clipboard may refuse (an insecure origin, a denied permission) and the text stays on screen.
import { useState } from 'react';

export function CopyButton({ text, label }: { text: string; label?: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = () =>
    navigator.clipboard.writeText(text).then(
      () => setCopied('yes'),
      () => setCopied('no'),
    );
  return (
    <>
      <button
        type="button"
        className="link-button"
        onClick={() => void copy()}
        aria-label={`Copy ${label ?? text}`}
      >
        Copy
      </button>{' '}
      <span role="status" className="muted">
        {copied === 'yes' ? 'Copied' : copied === 'no' ? 'Copy failed: select the text instead' : ''}
      </span>
    </>
  );
}
