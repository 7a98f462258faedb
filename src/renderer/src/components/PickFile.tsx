// A host file chosen by the user: its name (and, for information, its full path), and a
// "Choose…" button that opens the file dialog (native in the desktop app, the host server's
// picker window in a browser). There is no path to type: the engine takes only grants from the UI.
import { useId, useRef, useState } from 'react';
import { pickFile, type PickedFile, type PickPurpose } from '../api/pick';
import { errorMessage } from '../store/notices';

interface Props {
  purpose: PickPurpose;
  /** What is chosen, for the button's accessible name: "ISO file", "Kernel". */
  label: string;
  value: PickedFile | null;
  onPick: (file: PickedFile) => void;
  /** Shown when set: lets the user go back to no file. */
  onClear?: () => void;
  /** data-testid prefix: `<prefix>-choose`, `<prefix>-chosen`, `<prefix>-clear`. */
  testId: string;
  /** ids of text that describes the choice (a field error). */
  describedBy?: string;
  invalid?: boolean;
}

export function PickFile({ purpose, label, value, onPick, onClear, testId, describedBy, invalid }: Props) {
  const id = useId();
  const [waiting, setWaiting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // A picker window the user closed never answers; Cancel stops waiting for it, and an answer
  // that comes after Cancel (or after a newer Choose) is dropped.
  const attempt = useRef(0);

  const choose = async () => {
    const mine = ++attempt.current;
    setWaiting(true);
    setError(null);
    try {
      const file = await pickFile(purpose);
      if (mine === attempt.current && file) onPick(file);
    } catch (err) {
      if (mine === attempt.current) setError(errorMessage(err));
    } finally {
      if (mine === attempt.current) setWaiting(false);
    }
  };
  const cancel = () => {
    attempt.current++;
    setWaiting(false);
  };

  const described = [`${id}-chosen`, describedBy].filter(Boolean).join(' ');
  return (
    <div className="pick-file">
      <div className="pick-file-row">
        <span className="pick-file-chosen" id={`${id}-chosen`} data-testid={`${testId}-chosen`}>
          {value ? (
            <>
              <strong>{value.name}</strong>
              <span className="muted pick-file-path">{value.path}</span>
            </>
          ) : (
            <em className="muted">No file chosen</em>
          )}
        </span>
        <button
          type="button"
          onClick={() => void choose()}
          disabled={waiting}
          aria-label={`${value ? 'Change' : 'Choose'} ${label.toLowerCase()}…`}
          aria-describedby={described}
          aria-invalid={invalid || undefined}
          data-testid={`${testId}-choose`}
        >
          {value ? 'Change…' : 'Choose…'}
        </button>
        {value && onClear && !waiting && (
          <button
            type="button"
            onClick={onClear}
            data-testid={`${testId}-clear`}
            aria-label={`Clear ${label.toLowerCase()}`}
          >
            Clear
          </button>
        )}
        {waiting && (
          <button type="button" onClick={cancel} data-testid={`${testId}-cancel`}>
            Cancel
          </button>
        )}
      </div>
      <span className="muted pick-file-status" aria-live="polite">
        {waiting ? 'Choose the file in the file dialog…' : ''}
      </span>
      {error && (
        <span className="field-error" role="alert" data-testid={`${testId}-error`}>
          {error}
        </span>
      )}
    </div>
  );
}
