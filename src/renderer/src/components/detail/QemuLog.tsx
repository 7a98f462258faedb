// The tail of qemu.log (the command line QEMU was started with, then its messages), refreshed every 3 s while this tab is open. Automatic refreshes fail
// quietly (inline) so a stopped engine does not pile up a notice every 3 seconds.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../../api/client';
import { attempt, errorMessage } from '../../store/notices';

const LINES = 500;
const EVERY_MS = 3000;

export function QemuLog({ id }: { id: string }) {
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [auto, setAuto] = useState(true);
  const pre = useRef<HTMLPreElement>(null);
  // Follow new lines only when the reader is already at the bottom, so scrolling up to read stays put.
  const atBottom = useRef(true);

  const fetchLog = useCallback(() => api('vm.log', { vm: id, lines: LINES }), [id]);
  const refresh = async () => {
    const r = await attempt('Could not read the log', fetchLog);
    if (r) {
      setText(r.text);
      setError('');
    }
  };

  useEffect(() => {
    let live = true;
    const tick = () =>
      fetchLog().then(
        (r) => live && (setText(r.text), setError('')),
        (err: unknown) => live && setError(errorMessage(err)),
      );
    void tick();
    const timer = auto ? setInterval(() => void tick(), EVERY_MS) : undefined;
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [fetchLog, auto]);

  useEffect(() => {
    const el = pre.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [text]);

  return (
    <div className="term-tab">
      <div className="console-toolbar">
        <span className="muted">qemu.log, last {LINES} lines</span>
        <span className="console-spacer" />
        <label className="detail-check">
          <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} /> Refresh every 3
          s
        </label>
        <button type="button" data-testid="log-refresh" onClick={() => void refresh()}>
          Refresh
        </button>
      </div>
      {error && <p className="field-error">{error}</p>}
      <pre
        ref={pre}
        className="term-log"
        data-testid="log-text"
        tabIndex={0}
        aria-label="QEMU log"
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {text === null ? 'Loading…' : text || '(the log is empty)'}
      </pre>
    </div>
  );
}
