// Step 4: the VM's disk. A new image (size, format, preallocation), or, when an existing image
// was chosen, whether to use it in place or copy it into the VM.
import { bytesLabel, described, Field, type StepProps } from './Field';
import type { DiskFacts } from './DiskInfo';
import { PREALLOCATIONS, type Preallocation } from './form';
import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import { parseSize } from './validate';

const PREALLOC_HINT: Record<Preallocation, string> = {
  off: 'Space is taken as the guest writes: fastest to create.',
  metadata: 'qcow2 tables are written up front: a little faster growth.',
  falloc: 'Space is reserved now without writing it.',
  full: 'Every byte is written now: slow to create, no surprises later.',
};

function ExistingDisk({ form, set, disk }: StepProps & { disk: DiskFacts | null }) {
  const size = disk && disk.grant === form.diskImage?.grant ? disk.virtualSize : undefined;
  return (
    <fieldset className="wiz-choices">
      <legend>
        {form.diskImage?.path}
        {size !== undefined && <span className="muted"> ({bytesLabel(size)})</span>}
      </legend>
      <label className="wiz-choice">
        <input
          type="radio"
          name="existing"
          checked={form.existing === 'external'}
          onChange={() => set('existing', 'external')}
          data-testid="wiz-disk-external"
        />
        <span>
          <strong>Use in place</strong>
          <span className="muted"> The VM writes to this file, and deleting the VM keeps it.</span>
        </span>
      </label>
      <label className="wiz-choice">
        <input
          type="radio"
          name="existing"
          checked={form.existing === 'copy'}
          onChange={() => set('existing', 'copy')}
          data-testid="wiz-disk-copy"
        />
        <span>
          <strong>Copy into the VM</strong>
          <span className="muted"> The original stays untouched; the copy belongs to the VM.</span>
        </span>
      </label>
    </fieldset>
  );
}

/** Free space where Hangar keeps VMs, asked once per visit of the step; null until known. */
function useFreeSpace(): number | null {
  const [free, setFree] = useState<number | null>(null);
  useEffect(() => {
    let current = true;
    // A warning only: if the engine cannot say, nothing is shown.
    api('host.space', {}).then(
      (r) => current && setFree(r.free),
      () => {},
    );
    return () => {
      current = false;
    };
  }, []);
  return free;
}

/** A virtual size beyond the free space is allowed (qcow2 grows as written) but said. */
function SpaceWarning({ size }: { size: string }) {
  const free = useFreeSpace();
  const parsed = parseSize(size);
  if (free === null || 'error' in parsed || parsed.bytes <= free) return null;
  return (
    <p className="wiz-hint wiz-warning" role="note" data-testid="wiz-disk-space-warning">
      This disk may grow to {bytesLabel(parsed.bytes)}, but only {bytesLabel(free)} is free where Hangar keeps
      its VMs. The VM is made (its disk takes space only as the guest writes), but the guest's writes fail
      once the host disk is full.
    </p>
  );
}

export function StepDisk(props: StepProps & { disk: DiskFacts | null }) {
  const { form, set, error, touch } = props;
  if (form.media === 'disk') return <ExistingDisk {...props} />;
  if (form.media === 'library' && form.libraryImage && form.libraryImage.format !== 'iso') {
    return (
      <Field
        label="Disk size"
        field="diskSize"
        error={error('diskSize')}
        hint={`A linked clone of ${form.libraryImage.name} (${bytesLabel(form.libraryImage.virtualSize)}): the VM writes only its own overlay. A larger size grows it.`}
      >
        <input
          value={form.diskSize}
          onChange={(e) => set('diskSize', e.target.value)}
          onBlur={() => touch('diskSize')}
          spellCheck={false}
          data-testid="wiz-disk-size"
          {...described('diskSize', error('diskSize'))}
        />
      </Field>
    );
  }
  if (form.media === 'cloud') {
    const size =
      props.disk && props.disk.grant === form.cloudImage?.grant ? props.disk.virtualSize : undefined;
    return (
      <Field
        label="Grow the disk to"
        field="diskSize"
        error={error('diskSize')}
        hint={`The VM's copy of the image is grown to this size; cloud-init grows the filesystem at first boot.${
          size !== undefined ? ` The image is ${bytesLabel(size)}.` : ''
        }`}
      >
        <input
          value={form.diskSize}
          onChange={(e) => set('diskSize', e.target.value)}
          onBlur={() => touch('diskSize')}
          spellCheck={false}
          data-testid="wiz-disk-size"
          {...described('diskSize', error('diskSize'))}
        />
      </Field>
    );
  }
  return (
    <>
      <Field
        label="Size"
        field="diskSize"
        error={error('diskSize')}
        hint="A number with a unit: 64M, 20G, 1.5T. qcow2 only uses what the guest writes."
      >
        <input
          value={form.diskSize}
          onChange={(e) => set('diskSize', e.target.value)}
          onBlur={() => touch('diskSize')}
          spellCheck={false}
          data-testid="wiz-disk-size"
          {...described('diskSize', error('diskSize'))}
        />
      </Field>
      <SpaceWarning size={form.diskSize} />
      <Field
        label="Format"
        field="diskFormat"
        error={undefined}
        hint={form.diskFormat === 'qcow2' ? 'Needed for snapshots.' : 'Raw images cannot hold snapshots.'}
      >
        <select
          value={form.diskFormat}
          onChange={(e) => set('diskFormat', e.target.value as 'qcow2' | 'raw')}
          data-testid="wiz-disk-format"
        >
          <option value="qcow2">qcow2</option>
          <option value="raw">raw</option>
        </select>
      </Field>
      <Field
        label="Preallocation"
        field="preallocation"
        error={error('preallocation')}
        hint={PREALLOC_HINT[form.preallocation]}
      >
        <select
          value={form.preallocation}
          onChange={(e) => set('preallocation', e.target.value as Preallocation)}
          data-testid="wiz-preallocation"
          {...described('preallocation', error('preallocation'))}
        >
          {PREALLOCATIONS.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </Field>
    </>
  );
}
