// Copies a text to the clipboard and says whether it worked. Refused on an insecure origin or by
// permission: the text stays on screen beside it to copy by hand.
import { useState } from 'react';

export function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = () =>
    navigator.clipboard.writeText(text).then(
      () => setCopied('yes'),
      () => setCopied('no'),
    );
  return (
    <button type="button" className="link-button" onClick={() => void copy()} aria-label={`Copy ${text}`}>
      {copied === 'yes' ? 'Copied' : copied === 'no' ? 'Copy failed' : 'Copy'}
    </button>
  );
}
