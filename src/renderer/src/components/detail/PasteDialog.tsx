// Typing text into a guest that has no shared clipboard (a login prompt, an installer): the engine
// turns it into key presses, so only what a US keyboard can type gets through.
import { useState } from 'react';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';
import { Dialog } from './Dialog';

export function PasteDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const send = async () => {
    setSending(true);
    const done = await attempt('Could not type the text', () => api('vm.typeText', { vm: id, text }));
    setSending(false);
    if (done !== undefined) onClose();
  };
  return (
    <Dialog title="Paste text as key presses" onClose={onClose} testId="paste-dialog">
      <form
        className="detail-dialog-body"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <label htmlFor="paste-text">
          Text to type into the guest (plain ASCII; a line break presses Enter)
        </label>
        <textarea
          id="paste-text"
          data-testid="paste-text"
          rows={6}
          maxLength={10_000}
          value={text}
          onChange={(e) => setText(e.target.value)}
          autoFocus
        />
        <div className="detail-dialog-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" data-testid="paste-send" disabled={!text || sending}>
            {sending ? 'Typing…' : 'Type it'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
