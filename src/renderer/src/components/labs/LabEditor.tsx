// A lab file in an editor: checked as it is typed (the same parser as `hangar lab validate`, each
// error with its line and column), opened from disk with the browser's own file dialog (its text
// only: no path reaches the engine), and applied after its plan has been shown.
import { useMemo, useRef, useState } from 'react';
import { highlightYaml } from '../../../../shared/lab/highlight';
import { parseLab } from '../../../../shared/lab/parse';
import type { LabPlanEntry } from '../../../../shared/lab/status';
import { api } from '../../api/client';
import { errorMessage, notify } from '../../store/notices';
import { labVerb } from '../../store/labs';

const STARTER = `version: 1
name: demo
baseline: on-ready
networks:
  lan: { subnet: 10.30.0.0/24 }
vms:
  one:
    template: tiny
    nics: [{ network: lan }]
`;

export function LabEditor({ onDone, initial }: { onDone: () => void; initial?: string }) {
  const [text, setText] = useState(initial ?? STARTER);
  const under = useRef<HTMLPreElement>(null);
  const pieces = useMemo(() => highlightYaml(text), [text]);
  const [plan, setPlan] = useState<{ lab: string; plan: LabPlanEntry[] } | null>(null);
  const parsed = useMemo(() => parseLab(text), [text]);
  const errors = parsed.ok ? [] : parsed.errors;
  const open = async (file: File | undefined) => {
    if (!file) return;
    if (file.size > 1024 * 1024) return notify('error', 'Lab file', `${file.name} is larger than 1 MiB.`);
    setText(await file.text());
    setPlan(null);
  };
  const showPlan = () =>
    api('lab.plan', { text }).then(setPlan, (err: unknown) => notify('error', 'Plan', errorMessage(err)));
  const apply = (name: string) =>
    labVerb(name, 'up', () => api('lab.up', { text })).then(
      () => {
        notify('info', `Lab ${name}`, 'is up.');
        onDone();
      },
      (err: unknown) => notify('error', `Lab ${name}: up failed`, errorMessage(err)),
    );
  return (
    <section className="lab-editor" aria-label="Lab file" data-testid="lab-editor">
      <div className="lab-editor-bar">
        <label className="file-button">
          Open lab file…
          <input
            type="file"
            accept=".yaml,.yml"
            data-testid="lab-open"
            onChange={(e) => void open(e.target.files?.[0])}
          />
        </label>
        <button type="button" disabled={!parsed.ok} onClick={() => void showPlan()} data-testid="lab-plan">
          Plan
        </button>
        <button type="button" onClick={onDone}>
          Close
        </button>
      </div>
      <div className="lab-code">
        {/* The highlighted copy sits under a textarea whose own text is transparent: typing,
            selection and undo stay the browser's, the colours come from the YAML lexer. */}
        <pre className="lab-highlight" aria-hidden="true" ref={under}>
          {pieces.map((p, i) => (
            <span key={i} className={`y-${p.cls}`}>
              {p.text}
            </span>
          ))}
          {'\n'}
        </pre>
        <textarea
          className="lab-text"
          spellCheck={false}
          value={text}
          rows={18}
          wrap="off"
          aria-label="hangar.lab.yaml"
          aria-invalid={errors.length > 0}
          data-testid="lab-text"
          onScroll={(e) => {
            if (!under.current) return;
            under.current.scrollTop = e.currentTarget.scrollTop;
            under.current.scrollLeft = e.currentTarget.scrollLeft;
          }}
          onChange={(e) => {
            setText(e.target.value);
            setPlan(null);
          }}
        />
      </div>
      {errors.length > 0 && (
        <ul className="lab-errors" role="alert" data-testid="lab-errors">
          {errors.map((e, i) => (
            <li key={i}>
              line {e.line}, column {e.column}
              {e.key ? ` (${e.key})` : ''}: {e.message}
            </li>
          ))}
        </ul>
      )}
      {plan && (
        <div className="lab-plan" data-testid="lab-plan-result">
          <h3>Plan for {plan.lab}</h3>
          <ul>
            {plan.plan.map((p) => (
              <li key={p.vm}>
                <strong>{p.action}</strong> {p.vm} ({p.vmName}: {p.why})
              </li>
            ))}
          </ul>
          <button
            type="button"
            className="primary"
            data-testid="lab-apply"
            onClick={() => void apply(plan.lab)}
          >
            Apply
          </button>
        </div>
      )}
    </section>
  );
}
