// Step 2: what the VM boots from: an installer ISO (with ISOs found on this host offered), an
// existing disk image, or nothing (optionally a kernel booted directly, for power users). Files
// are chosen with the file dialog (PickFile), never typed: the engine takes only grants from the UI.
import { useEffect, useState } from 'react';
import type { PickedFile } from '../../../../shared/requests';
import { api } from '../../api/client';
import { foundIsos } from '../../api/pick';
import { PickFile } from '../PickFile';
import { CloudInitFields } from './CloudInitFields';
import { LibraryChoice } from './LibraryChoice';
import { useIsoCheck } from './iso-check';
import { DiskInfo, type DiskFacts } from './DiskInfo';
import type { MediaKind } from './form';
import { described, errorId, Field, FieldError, type StepProps } from './Field';

const MEDIA: { kind: MediaKind; label: string; hint: string }[] = [
  { kind: 'iso', label: 'Installer ISO', hint: 'Boot an install or live CD; a new disk is made for the VM.' },
  {
    kind: 'library',
    label: 'From the library',
    hint: 'An image you added or downloaded: the VM is a linked clone of it, made in a moment.',
  },
  { kind: 'disk', label: 'Existing disk image', hint: 'A qcow2 or raw image that already has an OS on it.' },
  {
    kind: 'cloud',
    label: 'Cloud image',
    hint: 'A cloud qcow2 (Debian, Ubuntu, Fedora…): cloud-init sets up your user and SSH key.',
  },
  { kind: 'none', label: 'No media', hint: 'An empty disk, or a kernel booted directly.' },
];

interface IsoListProps {
  title: string;
  found: PickedFile[];
  chosen: string | undefined;
  pick: (f: PickedFile) => void;
}

function IsoList({ title, found, chosen, pick }: IsoListProps) {
  if (found.length === 0) return null;
  return (
    <div className="wiz-iso-group">
      <h3 className="wiz-subtitle">{title}</h3>
      <ul className="wiz-iso-list">
        {found.map((f) => (
          <li key={f.path}>
            <button
              type="button"
              className="wiz-iso-option"
              onClick={() => pick(f)}
              aria-pressed={f.path === chosen}
              data-testid="wiz-iso-option"
            >
              <strong>{f.name}</strong>
              <span className="muted wiz-path">{f.path}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A labelled file choice in the wizard's field layout, its error linked for screen readers. */
function FileField(props: {
  label: string;
  field: 'iso' | 'diskImage' | 'cloudImage' | 'kernel' | 'initrd';
  purpose: 'iso' | 'disk' | 'kernel' | 'initrd';
  error: string | undefined;
  hint?: string;
  value: PickedFile | null;
  onPick: (f: PickedFile) => void;
  onClear?: () => void;
  testId: string;
  /** The error is shown elsewhere (DiskInfo) under this field's error id: link to it. */
  errorShownElsewhere?: boolean;
}) {
  const linked = props.error !== undefined || props.errorShownElsewhere;
  return (
    <div className="wiz-field" role="group" aria-label={props.label}>
      <span className="wiz-label">
        <span>{props.label}</span>
      </span>
      <PickFile
        purpose={props.purpose}
        label={props.label}
        value={props.value}
        onPick={props.onPick}
        onClear={props.onClear}
        testId={props.testId}
        describedBy={linked ? errorId(props.field) : undefined}
        invalid={linked}
      />
      {props.hint && <span className="wiz-hint muted">{props.hint}</span>}
      <FieldError field={props.field} error={props.error} />
    </div>
  );
}

function IsoChoice({ form, set, error, host, update }: StepProps) {
  useIsoCheck(form, host, update);
  const check = form.isoCheck && form.isoCheck.grant === form.iso?.grant ? form.isoCheck : null;
  const [found, setFound] = useState<ReturnType<typeof foundIsos> | null>(null);
  useEffect(() => {
    let current = true;
    // Offering ISOs is a convenience: if the lookup fails, Choose… still works.
    api('host.isos', {}).then(
      (r) => current && setFound(foundIsos(r)),
      () => current && setFound({ recent: [], downloads: [] }),
    );
    return () => {
      current = false;
    };
  }, []);
  const chosen = form.iso?.path;
  return (
    <>
      <FileField
        label="ISO file"
        field="iso"
        purpose="iso"
        error={error('iso')}
        value={form.iso}
        onPick={(f) => set('iso', f)}
        testId="wiz-iso"
      />
      {check?.os && (
        <p className="wiz-hint" data-testid="wiz-iso-os">
          Recognised: <strong>{check.os.name}</strong> ({check.os.shortId}); its recommended settings are
          filled in where you have not set your own.
        </p>
      )}
      {check && check.kind === 'iso' && !check.os && (
        <p className="wiz-hint muted" data-testid="wiz-iso-os">
          Not recognised{check.volumeId ? ` (volume "${check.volumeId}")` : ''}: choose the OS family on the
          first step if it matters.
        </p>
      )}
      {found === null && <p className="muted">Looking for ISOs…</p>}
      {found && (
        <IsoList title="Used by your VMs" found={found.recent} chosen={chosen} pick={(f) => set('iso', f)} />
      )}
      {found && (
        <IsoList title="In Downloads" found={found.downloads} chosen={chosen} pick={(f) => set('iso', f)} />
      )}
      {found && found.recent.length + found.downloads.length === 0 && (
        <p className="muted">No ISOs found in ~/Downloads or in use by other VMs: choose one above.</p>
      )}
    </>
  );
}

function DirectBoot({ form, set, error, touch }: StepProps) {
  const open = form.kernel !== null || form.initrd !== null || form.cmdline !== '';
  return (
    <details className="wiz-advanced" open={open} data-testid="wiz-direct-boot">
      <summary>Advanced: boot a Linux kernel directly</summary>
      <FileField
        label="Kernel"
        field="kernel"
        purpose="kernel"
        error={error('kernel')}
        value={form.kernel}
        onPick={(f) => set('kernel', f)}
        onClear={() => set('kernel', null)}
        testId="wiz-kernel"
      />
      <FileField
        label="Initrd (optional)"
        field="initrd"
        purpose="initrd"
        error={error('initrd')}
        value={form.initrd}
        onPick={(f) => set('initrd', f)}
        onClear={() => set('initrd', null)}
        testId="wiz-initrd"
      />
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
  const { form, set, error, disk } = props;
  // When disk.info found a problem, DiskInfo shows the engine's message in place of the field's own.
  const image = form.media === 'cloud' ? form.cloudImage : form.diskImage;
  const lookupFailed =
    disk !== null && disk.grant === image?.grant && (disk.error !== undefined || !!disk.chainError);
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
      {form.media === 'library' && <LibraryChoice {...props} />}
      {form.media === 'disk' && (
        <>
          <FileField
            label="Disk image"
            field="diskImage"
            purpose="disk"
            error={lookupFailed ? undefined : error('diskImage')}
            errorShownElsewhere={lookupFailed}
            hint="qcow2 or raw."
            value={form.diskImage}
            onPick={(f) => set('diskImage', f)}
            testId="wiz-disk"
          />
          <DiskInfo facts={disk} grant={form.diskImage?.grant} />
        </>
      )}
      {form.media === 'cloud' && (
        <>
          <FileField
            label="Cloud image"
            field="cloudImage"
            purpose="disk"
            error={lookupFailed ? undefined : error('cloudImage')}
            errorShownElsewhere={lookupFailed}
            hint="Copied into the VM (the file stays as it is), then grown to the disk size."
            value={form.cloudImage}
            onPick={(f) => set('cloudImage', f)}
            testId="wiz-cloud-image"
          />
          <DiskInfo facts={disk} grant={form.cloudImage?.grant} field="cloudImage" />
          <CloudInitFields {...props} />
        </>
      )}
      {form.media === 'none' && <DirectBoot {...props} />}
    </>
  );
}
