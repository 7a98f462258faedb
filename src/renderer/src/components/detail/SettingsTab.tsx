// Settings from vm.json. Name and description change any time; hardware waits for a stopped VM,
// and the form says so instead of letting the engine refuse. CD-ROM media change live.
import { useEffect, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import type { VmConfig } from '../../../../shared/vm';
import { api } from '../../api/client';
import { errorMessage } from '../../store/notices';
import { useVmDetail } from './hooks';
import { MediaPanel } from './MediaPanel';
import { PortForwards } from './PortForwards';
import { SharedFolderPanel } from './SharedFolderPanel';
import { formFromConfig, isDirty, patchFromForm, type SettingsForm } from './settings-form';

export function SettingsTab({ vm }: { vm: VmSummary }) {
  const detail = useVmDetail(vm.id);
  const [form, setForm] = useState<SettingsForm | null>(null);
  const [base, setBase] = useState<VmConfig | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [engineError, setEngineError] = useState('');
  const [saving, setSaving] = useState(false);

  // A new config (saved here, or changed elsewhere) replaces the form unless the user has edits
  // that the new config does not already contain.
  const config = detail?.config ?? null;
  useEffect(() => {
    if (!config) return;
    setForm((f) => (f && base && isDirty(f, base) && isDirty(f, config) ? f : formFromConfig(config)));
    setBase(config);
    // Only a new config resets the form; `base` is read, not a trigger.
  }, [config]);

  if (!form || !base) return <p className="muted">Loading settings…</p>;

  const stopped = vm.state === 'stopped' || vm.state === 'crashed';
  const set = <K extends keyof SettingsForm>(k: K, v: SettingsForm[K]) => setForm({ ...form, [k]: v });
  const dirty = isDirty(form, base);

  const save = async () => {
    const { patch, errors: found } = patchFromForm(form, base);
    setErrors(found);
    setEngineError('');
    if (Object.keys(found).length > 0 || Object.keys(patch).length === 0) return;
    setSaving(true);
    try {
      await api('vm.edit', { vm: vm.id, patch });
    } catch (err) {
      setEngineError(errorMessage(err));
    } finally {
      setSaving(false);
    }
  };
  // A list's message may be about one of its items ("tags.2").
  const field = (k: string) => {
    const message = errors[k] ?? Object.entries(errors).find(([p]) => p.startsWith(`${k}.`))?.[1];
    return message ? <span className="field-error">{message}</span> : null;
  };

  return (
    <div className="detail-settings">
      <form
        className="detail-form"
        data-testid="settings-form"
        data-dirty={dirty}
        // Our checks (the engine's own schema) give the messages, not the browser's bubbles.
        noValidate
        aria-label="VM settings"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset>
          <legend>General</legend>
          <p className="muted detail-hint">Name, description and tags can change at any time.</p>
          <label htmlFor="settings-name">Name</label>
          <input
            id="settings-name"
            data-testid="settings-name"
            value={form.name}
            maxLength={100}
            onChange={(e) => set('name', e.target.value)}
          />
          {field('name')}
          <label htmlFor="settings-description">Description</label>
          <textarea
            id="settings-description"
            rows={2}
            maxLength={4000}
            value={form.description}
            onChange={(e) => set('description', e.target.value)}
          />
          {field('description')}
          <label htmlFor="settings-tags">Tags</label>
          <input
            id="settings-tags"
            data-testid="settings-tags"
            value={form.tags}
            placeholder="web, ci"
            onChange={(e) => set('tags', e.target.value)}
          />
          {field('tags')}
        </fieldset>
        <fieldset disabled={!stopped}>
          <legend>Hardware</legend>
          {!stopped && (
            <p className="detail-hint detail-locked" data-testid="settings-locked">
              Stop the VM to change hardware. These take effect at the next start.
            </p>
          )}
          <div className="detail-grid">
            <label htmlFor="settings-cpus">CPUs</label>
            <div>
              <input
                id="settings-cpus"
                data-testid="settings-cpus"
                type="number"
                min={1}
                max={256}
                value={form.cpus}
                onChange={(e) => set('cpus', e.target.value)}
              />
              {field('cpus')}
            </div>
            <label htmlFor="settings-memory">Memory (MiB)</label>
            <div>
              <input
                id="settings-memory"
                data-testid="settings-memory"
                type="number"
                min={32}

                value={form.memoryMiB}
                onChange={(e) => set('memoryMiB', e.target.value)}
              />
              {field('memoryMiB')}
            </div>
            <label htmlFor="settings-firmware">Firmware</label>
            <div>
              <select
                id="settings-firmware"
                value={form.firmware}
                onChange={(e) => set('firmware', e.target.value as SettingsForm['firmware'])}
              >
                <option value="bios">BIOS (SeaBIOS)</option>
                <option value="uefi">UEFI</option>
                <option value="uefi-secure">UEFI with Secure Boot</option>
              </select>
              {field('firmware')}
            </div>
            <span>TPM</span>
            <label className="detail-check">
              <input type="checkbox" checked={form.tpm} onChange={(e) => set('tpm', e.target.checked)} />{' '}
              Emulated TPM 2.0
            </label>
          </div>
        </fieldset>
        {/* Forwards change live on a running VM (engine/vms/manage.ts). */}
        <fieldset>
          <PortForwards
            rows={form.forwards}
            hasNic={base.nics.length > 0}
            errors={errors}
            onChange={(forwards) => set('forwards', forwards)}
          />
        </fieldset>
        {engineError && (
          <p className="field-error detail-engine-error" role="alert" data-testid="settings-error">
            {engineError}
          </p>
        )}
        <div className="detail-form-actions">
          <button
            type="button"
            disabled={!dirty || saving}
            onClick={() => {
              setForm(formFromConfig(base));
              setErrors({});
              setEngineError('');
            }}
          >
            Discard changes
          </button>
          <button type="submit" className="primary" data-testid="settings-save" disabled={!dirty || saving}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
      <MediaPanel vm={vm} config={base} />
      <SharedFolderPanel vm={vm} config={base} />
    </div>
  );
}
