// Step 3: CPUs and memory, bounded by what this host has.
import { described, Field, type StepProps } from './Field';

export function StepHardware({ form, host, set, error, touch }: StepProps) {
  return (
    <>
      <Field
        label="CPUs"
        field="cpus"
        error={error('cpus')}
        hint={host ? `of ${host.hostCpus} CPUs on this host` : undefined}
      >
        <input
          type="number"
          inputMode="numeric"
          min={1}
          max={host?.hostCpus}
          value={form.cpus}
          onChange={(e) => set('cpus', e.target.value)}
          onBlur={() => touch('cpus')}
          data-testid="wiz-cpus"
          {...described('cpus', error('cpus'))}
        />
      </Field>
      <Field
        label="Memory (MiB)"
        field="memoryMiB"
        error={error('memoryMiB')}
        hint={host ? `of ${host.hostMemoryMiB} MiB on this host` : undefined}
      >
        <input
          type="number"
          inputMode="numeric"
          min={32}
          max={host?.hostMemoryMiB}
          step={1}
          value={form.memoryMiB}
          onChange={(e) => set('memoryMiB', e.target.value)}
          onBlur={() => touch('memoryMiB')}
          data-testid="wiz-memory"
          {...described('memoryMiB', error('memoryMiB'))}
        />
      </Field>
    </>
  );
}
