// Step 7: everything at a glance before "Create", then the engine's progress or its error.
import type { Progress } from '../../../../shared/api-types';
import { OS_PROFILES } from '../../../../shared/profiles';
import type { DiskFacts } from './DiskInfo';
import type { WizardForm } from './form';
import { bytesLabel } from './Field';

const FIRMWARE = { bios: 'BIOS', uefi: 'UEFI', 'uefi-secure': 'UEFI with secure boot' } as const;

function media(form: WizardForm): string {
  if (form.media === 'iso') return `ISO ${form.iso?.path ?? ''}`;
  if (form.media === 'disk') return 'Existing disk image (see Disk)';
  if (form.media === 'library') return `Library image ${form.libraryImage?.name ?? ''}`;
  if (form.media === 'cloud') return `Cloud image ${form.cloudImage?.path ?? ''}`;
  if (form.kernel) return `Kernel ${form.kernel.path}${form.initrd ? ` with ${form.initrd.path}` : ''}`;
  return 'None';
}

function disk(form: WizardForm, facts: DiskFacts | null): string {
  if (form.media === 'cloud') return `A copy of the image, grown to ${form.diskSize.trim()}`;
  if (form.media === 'library' && form.libraryImage?.format !== 'iso')
    return `A linked clone of ${form.libraryImage?.name ?? 'the image'}, ${form.diskSize.trim()}`;
  if (form.media !== 'disk')
    return `New ${form.diskFormat}, ${form.diskSize.trim()}, preallocation ${form.preallocation}`;
  const size = facts?.virtualSize !== undefined ? ` (${bytesLabel(facts.virtualSize)})` : '';
  return `${form.diskImage?.path ?? ''}${size}, ${form.existing === 'copy' ? 'copied into the VM' : 'used in place'}`;
}

function cloudInit(form: WizardForm): string {
  const keys = (form.ciKeys?.length ?? 0) + form.ciPastedKeys.split('\n').filter((l) => l.trim()).length;
  return [
    `user ${form.ciUser.trim() || '(your user name)'}`,
    `${keys} SSH key${keys === 1 ? '' : 's'} and Hangar's own`,
    form.ciPassword ? 'a password' : 'no password',
    form.ciUserData.trim() ? 'extra user-data' : '',
  ]
    .filter(Boolean)
    .join(', ');
}

function network(form: WizardForm): string {
  if (!form.nat) return 'None';
  if (form.forwards.length === 0) return 'NAT, no port forwards';
  const list = form.forwards.map((r) => `${r.protocol} ${r.hostPort} → ${r.guestPort}`).join(', ');
  return `NAT, forwarding ${list}`;
}

interface Props {
  form: WizardForm;
  disk: DiskFacts | null;
  problems: string[];
  creating: boolean;
  progress: Progress | undefined;
  failure: string | null;
}

export function StepReview({ form, disk: facts, problems, creating, progress, failure }: Props) {
  const rows: [string, string][] = [
    ['Name', form.name],
    ['Operating system', OS_PROFILES[form.osType].label],
    ['Boot media', media(form)],
    ['CPUs', form.cpus.trim()],
    ['Memory', `${form.memoryMiB.trim()} MiB`],
    ['Disk', disk(form, facts)],
    ['Firmware', `${FIRMWARE[form.firmware]}${form.tpm ? ', TPM 2.0' : ''}`],
    ['Network', network(form)],
  ];
  if (form.media === 'none' && form.cmdline.trim()) rows.splice(3, 0, ['Kernel command line', form.cmdline]);
  if (form.media === 'cloud' || (form.media === 'library' && form.libraryImage?.cloud))
    rows.splice(3, 0, ['cloud-init', cloudInit(form)]);
  if (form.osVariant) rows.splice(1, 0, ['OS (osinfo-db)', form.osVariant]);
  return (
    <>
      <dl className="wiz-review" data-testid="wiz-review">
        {rows.map(([k, v]) => (
          <div key={k} className="wiz-review-row">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {problems.map((p) => (
        <p key={p} className="field-error" data-testid="field-error">
          {p}
        </p>
      ))}
      {creating && (
        <div className="wiz-progress" aria-live="polite" data-testid="wiz-progress">
          <span>{progress ? `Creating: ${progress.step}` : 'Creating the VM…'}</span>
          <progress max={100} value={progress?.percent} aria-label="Creating the VM" />
        </div>
      )}
      {failure && (
        <p className="wiz-failure" role="alert" data-testid="wiz-error">
          {failure}
        </p>
      )}
    </>
  );
}
