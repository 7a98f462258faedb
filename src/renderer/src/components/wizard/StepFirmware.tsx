// Step 5: BIOS or UEFI (with or without secure boot), and an emulated TPM where swtpm exists.
import type { Firmware } from '../../../../shared/vm';
import { useVms } from '../../store/vms';
import { described, Field, FieldError, type StepProps } from './Field';

const LABELS: Record<Firmware, string> = {
  bios: 'BIOS (SeaBIOS)',
  uefi: 'UEFI',
  'uefi-secure': 'UEFI with secure boot',
};

/** A hint only: the engine picks the firmware from QEMU's descriptors and has the last word. */
function uefiMissing(firmware: Firmware, descriptors: { secureBoot: boolean; machines: string[] }[]) {
  if (firmware === 'bios') return false;
  const secure = firmware === 'uefi-secure';
  return !descriptors.some((d) => d.secureBoot === secure && d.machines.some((m) => m.includes('q35')));
}

export function StepFirmware({ form, host, set, error }: StepProps) {
  const descriptors = useVms((s) => s.host?.firmware ?? null);
  const tpmError = error('tpm');
  return (
    <>
      <Field
        label="Firmware"
        field="firmware"
        error={error('firmware')}
        hint={
          form.firmware === 'uefi-secure'
            ? 'Secure boot runs on the q35 machine type, which new VMs use.'
            : 'Most Linux installers boot either way; Windows 11 needs UEFI with secure boot.'
        }
      >
        <select
          value={form.firmware}
          onChange={(e) => set('firmware', e.target.value as Firmware)}
          data-testid="wiz-firmware"
          {...described('firmware', error('firmware'))}
        >
          {(Object.keys(LABELS) as Firmware[]).map((f) => (
            <option key={f} value={f}>
              {LABELS[f]}
            </option>
          ))}
        </select>
      </Field>
      {descriptors && uefiMissing(form.firmware, descriptors) && (
        <p className="wiz-warning" role="note">
          No matching UEFI firmware was found on this host: install the ovmf package, or choose BIOS.
        </p>
      )}
      <div className="wiz-field">
        <label className="wiz-check">
          <input
            type="checkbox"
            checked={form.tpm}
            disabled={host !== null && !host.tpm && !form.tpm}
            onChange={(e) => set('tpm', e.target.checked)}
            data-testid="wiz-tpm"
            {...described('tpm', tpmError)}
          />
          <span>Emulated TPM 2.0</span>
        </label>
        {host && !host.tpm && (
          <span className="wiz-hint muted">
            Unavailable: this host has no swtpm (sudo apt-get install swtpm swtpm-tools).
          </span>
        )}
        <FieldError field="tpm" error={tpmError} />
      </div>
    </>
  );
}
