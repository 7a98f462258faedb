// Step 2: what the VM boots from: an installer ISO (with ISOs found on this host offered), an
// existing disk image, or nothing (optionally a kernel booted directly, for power users).
import { useEffect, useState } from 'react';
import type { ApiResults } from '../../../../shared/api';
import { api } from '../../api/client';
import { DiskInfo, type DiskFacts } from './DiskInfo';
import type { MediaKind } from './form';
import { basename, described, Field, type StepProps } from './Field';

const MEDIA: { kind: MediaKind; label: string; hint: string }[] = [
  { kind: 'iso', label: 'Installer ISO', hint: 'Boot an install or live CD; a new disk is made for the VM.' },
  { kind: 'disk', label: 'Existing disk image', hint: 'A qcow2 or raw image that already has an OS on it.' },
  { kind: 'none', label: 'No media', hint: 'An empty disk, or a kernel booted directly.' },
];

interface IsoListProps {
  title: string;
  paths: string[];
  chosen: string;
  pick: (p: string) => void;
}

function IsoList({ title, paths, chosen, pick }: IsoListProps) {
  if (paths.length === 0) return null;
  return (
    <div className="wiz-iso-group">
      <h3 className="wiz-subtitle">{title}</h3>
      <ul className="wiz-iso-list">
        {paths.map((p) => (
          <li key={p}>
            <button
              type="button"
              className="wiz-iso-option"
              onClick={() => pick(p)}
              aria-pressed={p === chosen}
              data-testid="wiz-iso-option"
            >
              <strong>{basename(p)}</strong>
              <span className="muted wiz-path">{p}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function IsoChoice({ form, set, error, touch }: StepProps) {
  const [found, setFound] = useState<ApiResults['host.isos'] | null>(null);
  useEffect(() => {
    let current = true;
    // Offering ISOs is a convenience: if the lookup fails, the path field still works.
    api('host.isos', {}).then(
      (r) => current && setFound(r),
      () => current && setFound({ recent: [], downloads: [] }),
    );
    return () => {
      current = false;
    };
  }, []);
  return (
    <>
      <Field label="ISO file" field="isoPath" error={error('isoPath')} hint="The full path, starting with /.">
        <input
          value={form.isoPath}
          onChange={(e) => set('isoPath', e.target.value)}
          onBlur={() => touch('isoPath')}
          placeholder="/home/you/Downloads/debian.iso"
          spellCheck={false}
          data-testid="wiz-iso-path"
          {...described('isoPath', error('isoPath'))}
        />
      </Field>
      {found === null && <p className="muted">Looking for ISOs…</p>}
      {found && (
        <IsoList
          title="Used by your VMs"
          paths={found.recent}
          chosen={form.isoPath.trim()}
          pick={(p) => set('isoPath', p)}
        />
      )}
      {found && (
        <IsoList
          title="In Downloads"
          paths={found.downloads}
          chosen={form.isoPath.trim()}
          pick={(p) => set('isoPath', p)}
        />
      )}
      {found && found.recent.length + found.downloads.length === 0 && (
        <p className="muted">No ISOs found in ~/Downloads or in use by other VMs: type the path above.</p>
      )}
    </>
  );
}

function DirectBoot({ form, set, error, touch }: StepProps) {
  const open = form.kernel !== '' || form.initrd !== '' || form.cmdline !== '';
  const path = (field: 'kernel' | 'initrd', label: string, placeholder: string) => (
    <Field label={label} field={field} error={error(field)}>
      <input
        value={form[field]}
        onChange={(e) => set(field, e.target.value)}
        onBlur={() => touch(field)}
        placeholder={placeholder}
        spellCheck={false}
        data-testid={`wiz-${field}`}
        {...described(field, error(field))}
      />
    </Field>
  );
  return (
    <details className="wiz-advanced" open={open}>
      <summary>Advanced: boot a Linux kernel directly</summary>
      {path('kernel', 'Kernel', '/path/to/vmlinuz')}
      {path('initrd', 'Initrd (optional)', '/path/to/initrd.img')}
      <Field label="Kernel command line" field="cmdline" error={error('cmdline')}>
        <input
          value={form.cmdline}
          onChange={(e) => set('cmdline', e.target.value)}
          onBlur={() => touch('cmdline')}
          placeholder="console=ttyS0 root=/dev/vda1"
          spellCheck={false}
          data-testid="wiz-cmdline"
          {...described('cmdline', error('cmdline'))}
        />
      </Field>
    </details>
  );
}

export function StepMedia(props: StepProps & { disk: DiskFacts | null }) {
  const { form, set, error, touch, disk } = props;
  // When disk.info failed, DiskInfo shows the engine's message in place of the field's own.
  const lookupFailed = disk?.error !== undefined && disk.path === form.diskPath.trim();
  const diskPathError = lookupFailed ? undefined : error('diskPath');
  return (
    <>
      <fieldset className="wiz-choices">
        <legend>Boot from</legend>
        {MEDIA.map((m) => (
          <label key={m.kind} className="wiz-choice">
            <input
              type="radio"
              name="media"
              value={m.kind}
              checked={form.media === m.kind}
              onChange={() => set('media', m.kind)}
              data-testid={`wiz-media-${m.kind}`}
            />
            <span>
              <strong>{m.label}</strong>
              <span className="muted"> {m.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {form.media === 'iso' && <IsoChoice {...props} />}
      {form.media === 'disk' && (
        <>
          <Field label="Disk image" field="diskPath" error={diskPathError} hint="qcow2 or raw, full path.">
            <input
              value={form.diskPath}
              onChange={(e) => set('diskPath', e.target.value)}
              onBlur={() => touch('diskPath')}
              placeholder="/var/lib/images/debian.qcow2"
              spellCheck={false}
              data-testid="wiz-disk-path"
              {...described('diskPath', lookupFailed ? disk?.error : diskPathError)}
            />
          </Field>
          <DiskInfo facts={disk} path={form.diskPath} />
        </>
      )}
      {form.media === 'none' && <DirectBoot {...props} />}
    </>
  );
}
