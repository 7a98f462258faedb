// The cloud-init part of the media step for a cloud image: who logs in and how. Keys come from
// ~/.ssh (the engine lists the public ones; all are ticked by default) or are pasted; a password
// is optional (the engine stores only its hash); extra user-data is pasted as text. Hangar's own
// key for `hangar ssh` and readiness is always added by the engine.
import { useEffect, useState } from 'react';
import type { ApiResults } from '../../../../shared/api';
import { api } from '../../api/client';
import { described, Field, FieldError, type StepProps } from './Field';

type Found = ApiResults['host.sshKeys'];

function keyLabel(k: { file: string; key: string }): string {
  const [type, , comment] = k.key.split(' ');
  return `${k.file} (${type}${comment ? `, ${comment}` : ''})`;
}

export function CloudInitFields({ form, set, update, error, touch }: StepProps) {
  const [found, setFound] = useState<Found | null>(null);
  useEffect(() => {
    let current = true;
    api('host.sshKeys', {}).then(
      (r) => {
        if (!current) return;
        setFound(r);
        // Every key ticked until the user says otherwise, like the CLI's default (~/.ssh/*.pub).
        update((f) => (f.ciKeys === null ? { ...f, ciKeys: r.keys.map((k) => k.key) } : f));
      },
      () => current && setFound({ user: '', keys: [] }),
    );
    return () => {
      current = false;
    };
  }, [update]);
  const ticked = form.ciKeys ?? [];
  const toggle = (key: string, on: boolean) =>
    set('ciKeys', on ? [...ticked.filter((k) => k !== key), key] : ticked.filter((k) => k !== key));
  const noKey = found !== null && ticked.length === 0 && form.ciPastedKeys.trim() === '';
  return (
    <div className="wiz-cloud" data-testid="wiz-cloud-init">
      <Field
        label="User"
        field="ciUser"
        error={error('ciUser')}
        hint="Made by cloud-init, with sudo. Leave empty for your own user name."
      >
        <input
          value={form.ciUser}
          placeholder={found?.user || 'your user name'}
          onChange={(e) => set('ciUser', e.target.value)}
          onBlur={() => touch('ciUser')}
          spellCheck={false}
          autoComplete="off"
          data-testid="wiz-ci-user"
          {...described('ciUser', error('ciUser'))}
        />
      </Field>
      <fieldset className="wiz-choices" data-testid="wiz-ci-keys">
        <legend>SSH keys</legend>
        {found === null && <p className="muted">Looking in ~/.ssh…</p>}
        {found?.keys.map((k) => (
          <label key={k.key} className="wiz-choice">
            <input
              type="checkbox"
              checked={ticked.includes(k.key)}
              onChange={(e) => toggle(k.key, e.target.checked)}
              data-testid="wiz-ci-key"
            />
            <span>{keyLabel(k)}</span>
          </label>
        ))}
        {found !== null && found.keys.length === 0 && (
          <p className="muted">No public keys in ~/.ssh: paste one below, or use hangar ssh.</p>
        )}
      </fieldset>
      <Field
        label="More public keys (optional)"
        field="ciPastedKeys"
        error={error('ciPastedKeys')}
        hint={
          noKey
            ? 'No key chosen: log in with hangar ssh (Hangar adds its own key) or with a password.'
            : 'One per line, as in a .pub file.'
        }
      >
        <textarea
          rows={2}
          value={form.ciPastedKeys}
          onChange={(e) => set('ciPastedKeys', e.target.value)}
          onBlur={() => touch('ciPastedKeys')}
          spellCheck={false}
          placeholder="ssh-ed25519 AAAA… you@laptop"
          data-testid="wiz-ci-pasted-keys"
          {...described('ciPastedKeys', error('ciPastedKeys'))}
        />
      </Field>
      <Field
        label="Password (optional)"
        field="ciPassword"
        error={error('ciPassword')}
        hint="For the console; stored only as a hash. SSH accepts keys only."
      >
        <input
          type="password"
          value={form.ciPassword}
          onChange={(e) => set('ciPassword', e.target.value)}
          onBlur={() => touch('ciPassword')}
          autoComplete="new-password"
          data-testid="wiz-ci-password"
          {...described('ciPassword', error('ciPassword'))}
        />
      </Field>
      <details className="wiz-advanced" open={form.ciUserData !== ''}>
        <summary>Advanced: extra user-data</summary>
        <div className="wiz-field">
          <label className="wiz-label">
            <span>User-data</span>
            <textarea
              rows={6}
              value={form.ciUserData}
              onChange={(e) => set('ciUserData', e.target.value)}
              onBlur={() => touch('ciUserData')}
              spellCheck={false}
              placeholder={'#cloud-config\npackages: [git]'}
              data-testid="wiz-ci-user-data"
              {...described('ciUserData', error('ciUserData'))}
            />
          </label>
          <span className="wiz-hint muted">
            A #cloud-config document (checked before the VM is made) or a script starting with #!.
          </span>
          <FieldError field="ciUserData" error={error('ciUserData')} />
        </div>
      </details>
    </div>
  );
}
