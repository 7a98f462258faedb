// The name of a VM about to be made (a linked clone, a restored backup): checked with the engine's
// own rule and against the names in use before it is sent, with the form's Cancel and submit.
import type { ReactNode } from 'react';
import { VmName } from '../../../../shared/vm';
import { useVms } from '../../store/vms';

export function useNewVmNameError(name: string): string | null {
  const check = VmName.safeParse(name);
  const problem = check.success ? null : (check.error.issues[0]?.message ?? 'Not a usable name.');
  const taken = useVms((s) => s.vms.some((v) => v.name === name));
  return problem ?? (taken ? 'A VM has this name already: choose another.' : null);
}

export function NewVmNameFields(p: {
  id: string;
  label: string;
  name: string;
  setName: (name: string) => void;
  error: string | null;
  saving: boolean;
  onCancel: () => void;
  submit: { label: string; busy: string; testId: string };
  inputTestId: string;
  /** More fields of the form, between the name and its buttons. */
  children?: ReactNode;
  /** Something else in the form is not ready yet (it says what): the submit waits. */
  blocked?: boolean;
}) {
  return (
    <>
      <label htmlFor={p.id}>{p.label}</label>
      <input
        id={p.id}
        data-testid={p.inputTestId}
        value={p.name}
        maxLength={100}
        autoFocus
        aria-invalid={p.error !== null}
        aria-describedby={p.error ? `${p.id}-error` : undefined}
        onChange={(e) => p.setName(e.target.value)}
      />
      {p.error && (
        <span id={`${p.id}-error`} className="field-error snap-edit-error" data-testid="field-error">
          {p.error}
        </span>
      )}
      {p.children}
      <div className="snap-form-actions">
        <button type="button" onClick={p.onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className="primary"
          data-testid={p.submit.testId}
          disabled={p.error !== null || p.saving || p.blocked === true}
        >
          {p.saving ? p.submit.busy : p.submit.label}
        </button>
      </div>
    </>
  );
}
