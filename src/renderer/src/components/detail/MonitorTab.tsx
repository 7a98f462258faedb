// QEMU's human monitor, line by line: each line goes to the engine (vm.monitor), which runs only
// guest-level commands and says why when it refuses one. Up/Down walk the history.
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { isLive, monitorSession } from '../../consoles/sessions';
import { useObservable } from './hooks';
import { StoppedPlaceholder } from './StoppedPlaceholder';

export function MonitorTab({ vm }: { vm: VmSummary }) {
  const session = monitorSession(vm.id);
  const entries = useObservable(session.entries);
  const [line, setLine] = useState('');
  // Position in the history while browsing it with the arrows; null when typing a new line.
  const [cursor, setCursor] = useState<number | null>(null);
  const output = useRef<HTMLPreElement>(null);
  const live = isLive(vm.state);

  useEffect(() => {
    const el = output.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [entries]);

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    const h = session.history;
    if (e.key === 'Enter') {
      e.preventDefault();
      const cmd = line.trim();
      if (!cmd) return;
      session.run(cmd);
      setLine('');
      setCursor(null);
    } else if (e.key === 'ArrowUp' && h.length > 0) {
      e.preventDefault();
      const i = cursor === null ? h.length - 1 : Math.max(0, cursor - 1);
      setCursor(i);
      setLine(h[i] ?? '');
    } else if (e.key === 'ArrowDown' && cursor !== null) {
      e.preventDefault();
      const i = cursor + 1;
      setCursor(i < h.length ? i : null);
      setLine(i < h.length ? (h[i] ?? '') : '');
    }
  };

  return (
    <div className="term-tab">
      <div className="console-toolbar">
        <span className="muted">
          Guest-level commands only: <code>info status</code>, <code>info block</code>, <code>sendkey</code>,{' '}
          <code>stop</code>, <code>cont</code>… Type <code>help</code> for the list.
        </span>
        <span className="console-spacer" />
        <button type="button" onClick={() => session.clear()} disabled={entries.length === 0}>
          Clear
        </button>
      </div>
      {!live && <StoppedPlaceholder vm={vm} what="its monitor" />}
      <pre className="term-monitor" ref={output} data-testid="monitor-output" role="log" aria-live="polite">
        {entries.map((e) => (
          <span key={e.n} className="term-entry">
            <span className="term-prompt">(qemu) </span>
            {e.command}
            {'\n'}
            {e.output === null ? (
              <span className="muted">…{'\n'}</span>
            ) : (
              <span className={e.failed ? 'term-error' : undefined}>
                {e.output.endsWith('\n') || e.output === '' ? e.output : `${e.output}\n`}
              </span>
            )}
          </span>
        ))}
      </pre>
      <div className="term-input-line">
        <label htmlFor="monitor-input" className="term-prompt">
          (qemu)
        </label>
        <input
          id="monitor-input"
          data-testid="monitor-input"
          className="term-input"
          autoComplete="off"
          spellCheck={false}
          disabled={!live}
          placeholder={live ? 'info status' : 'Start the VM to use the monitor'}
          value={line}
          onChange={(e) => {
            setLine(e.target.value);
            setCursor(null);
          }}
          onKeyDown={onKeyDown}
        />
      </div>
    </div>
  );
}
