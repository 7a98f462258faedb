// Step 1: what to call the VM and what kind of OS it runs; the OS fills in sensible defaults for
// the later steps (leaving alone anything the user already changed).
import { OS_PROFILES } from '../../../../shared/profiles';
import { OS_TYPES, type OsType } from '../../../../shared/vm';
import { chooseOs } from './form';
import { described, Field, type StepProps } from './Field';

export function StepName({ form, host, set, update, error, touch }: StepProps) {
  const p = OS_PROFILES[form.osType];
  return (
    <>
      <Field label="Name" field="name" error={error('name')} hint="Any text you like, shown on the card.">
        <input
          value={form.name}
          onChange={(e) => set('name', e.target.value)}
          onBlur={() => touch('name')}
          maxLength={200}
          autoFocus
          placeholder="e.g. Debian test box"
          data-testid="wiz-name"
          {...described('name', error('name'))}
        />
      </Field>
      <Field
        label="Operating system"
        field="osType"
        error={error('osType')}
        hint={`Defaults: ${p.cpus} CPUs, ${p.memoryMiB} MiB memory, ${p.diskGiB}G disk, ${p.firmware === 'bios' ? 'BIOS' : 'UEFI'}${p.tpm ? ', TPM' : ''}.`}
      >
        <select
          value={form.osType}
          onChange={(e) => update((f) => chooseOs(f, e.target.value as OsType, host))}
          data-testid="wiz-os"
        >
          {OS_TYPES.map((os) => (
            <option key={os} value={os}>
              {OS_PROFILES[os].label}
            </option>
          ))}
        </select>
      </Field>
    </>
  );
}
