// Building blocks every step uses: the props a step receives, a labelled field, and the inline
// error next to it (linked to the control with aria-describedby so screen readers read it).
import type { ReactNode } from 'react';
import type { HostBounds, WizardForm } from './form';

export interface StepProps {
  form: WizardForm;
  host: HostBounds | null;
  /** A change by the user: marks the field as touched (its error shows) and as hand-set. */
  set: <K extends keyof WizardForm>(key: K, value: WizardForm[K]) => void;
  /** For changes spanning fields (OS type, port rows). */
  update: (change: (form: WizardForm) => WizardForm) => void;
  /** The field's error, once the user has touched it. */
  error: (field: string) => string | undefined;
  touch: (field: string) => void;
}

export function errorId(field: string): string {
  return `wiz-err-${field.replace(/[^a-zA-Z0-9-]/g, '-')}`;
}

/** aria attributes for a control whose error may be showing. */
export function described(field: string, error: string | undefined) {
  return { 'aria-invalid': error !== undefined, 'aria-describedby': error ? errorId(field) : undefined };
}

export function FieldError({ field, error }: { field: string; error: string | undefined }) {
  if (!error) return null;
  return (
    <span id={errorId(field)} className="field-error wiz-error-text" data-testid="field-error">
      {error}
    </span>
  );
}

interface FieldProps {
  label: string;
  field: string;
  error: string | undefined;
  hint?: ReactNode;
  children: ReactNode;
}

export function Field({ label, field, error, hint, children }: FieldProps) {
  return (
    <div className="wiz-field">
      <label className="wiz-label">
        <span>{label}</span>
        {children}
      </label>
      {hint && <span className="wiz-hint muted">{hint}</span>}
      <FieldError field={field} error={error} />
    </div>
  );
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1) || path;
}

export function bytesLabel(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[i]}`;
}
