// The creation wizard: one component per step, the form state here, validation in validate.ts.
// Next stays disabled while the current step has a problem; Back keeps every value; Create hands
// the request to the engine and shows its progress, or its message when it refuses.
import { useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../../api/client';
import { attempt, errorMessage } from '../../store/notices';
import { navigate } from '../../store/ui';
import { useVms } from '../../store/vms';
import { usePendingDrop } from '../../drop/pending';
import { useDiskFacts } from './DiskInfo';
import type { StepProps } from './Field';
import { chooseOs, initialForm, setField, type HostBounds, type WizardForm } from './form';
import { StepDisk } from './StepDisk';
import { StepFirmware } from './StepFirmware';
import { StepHardware } from './StepHardware';
import { StepMedia } from './StepMedia';
import { StepName } from './StepName';
import { StepNetwork } from './StepNetwork';
import { StepReview } from './StepReview';
import { buildRequest, errorsFor, STEPS, type Step } from './validate';

const TITLES: Record<Step, string> = {
  name: 'Name and OS',
  media: 'Install media',
  hardware: 'CPUs and memory',
  disk: 'Disk',
  firmware: 'Firmware',
  network: 'Network',
  review: 'Review',
};

function useHostBounds(): HostBounds | null {
  const host = useVms((s) => s.host);
  return useMemo(
    () =>
      host ? { hostCpus: host.hostCpus, hostMemoryMiB: host.hostMemoryMiB, tpm: host.swtpm !== null } : null,
    [host],
  );
}

export function Wizard() {
  const host = useHostBounds();
  const [form, setForm] = useState<WizardForm>(() => initialForm(host));
  const [index, setIndex] = useState(0);
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [creating, setCreating] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const progress = useVms((s) => s.progress['new']);
  const image = form.media === 'cloud' ? form.cloudImage : form.diskImage;
  const disk = useDiskFacts(image?.grant, form.media === 'disk' || form.media === 'cloud');
  const heading = useRef<HTMLHeadingElement>(null);
  const step = STEPS[index] ?? 'name';

  // A file dropped on the window (drop/DropTarget.tsx): chosen as the install media or the disk.
  const dropped = usePendingDrop((s) => s.dropped);
  useEffect(() => {
    if (!dropped) return;
    usePendingDrop.setState({ dropped: null });
    setForm((f) =>
      dropped.kind === 'iso'
        ? setField(setField(f, 'media', 'iso'), 'iso', dropped.file)
        : setField(setField(f, 'media', 'disk'), 'diskImage', dropped.file),
    );
  }, [dropped]);

  // Opened before the host probe arrived (a reload on #/new): bound the defaults once it does.
  useEffect(() => {
    if (host) setForm((f) => chooseOs(f, f.osType, host));
  }, [host]);

  // Move focus to the new step's heading so keyboard and screen-reader users start at its top.
  const firstRender = useRef(true);
  useEffect(() => {
    if (firstRender.current) firstRender.current = false;
    else heading.current?.focus();
  }, [index]);

  const { request, errors } = buildRequest(form, { host, disk });
  const stepErrors = errorsFor(step, errors);
  const blocked = Object.keys(stepErrors).length > 0;
  const touch = (field: string) => setTouched((t) => (t.has(field) ? t : new Set(t).add(field)));

  const props: StepProps = {
    form,
    host,
    set: (key, value) => {
      setForm((f) => setField(f, key, value));
      touch(key);
    },
    update: setForm,
    error: (field) => (touched.has(field) ? errors[field] : undefined),
    touch,
  };

  const next = () => {
    if (!blocked) setIndex((i) => Math.min(i + 1, STEPS.length - 1));
  };

  const create = async (start = false) => {
    if (!request || creating) return;
    setCreating(true);
    setFailure(null);
    try {
      const vm = await api('vm.create', request);
      navigate({ kind: 'vm', id: vm.id, tab: 'console' });
      // The VM exists whatever happens next: a refused start is a notice on its page.
      if (start) void attempt('Could not start the VM', () => api('vm.start', { vm: vm.id }));
    } catch (err) {
      setFailure(errorMessage(err));
    } finally {
      setCreating(false);
    }
  };

  const firstHidden = Object.entries(stepErrors).find(([f]) => !touched.has(f))?.[1];

  return (
    <section className="wiz" data-testid="wizard" aria-label="New virtual machine">
      <h1 className="wiz-title page-title" tabIndex={-1}>
        New virtual machine
      </h1>
      <ol className="wiz-steps">
        {STEPS.map((s, i) => (
          <li key={s} className={i === index ? 'wiz-steps-current' : i < index ? 'wiz-steps-done' : ''}>
            {i < index && !creating ? (
              <button type="button" className="wiz-steps-link" onClick={() => setIndex(i)}>
                {i + 1}. {TITLES[s]}
              </button>
            ) : (
              <span aria-current={i === index ? 'step' : undefined}>
                {i + 1}. {TITLES[s]}
              </span>
            )}
          </li>
        ))}
      </ol>
      <form
        className="wiz-body"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (step === 'review') void create();
          else next();
        }}
      >
        <div className="wiz-step" data-testid="wiz-step" data-step={step}>
          <h2 ref={heading} tabIndex={-1} className="wiz-step-title">
            {TITLES[step]}
          </h2>
          {step === 'name' && <StepName {...props} />}
          {step === 'media' && <StepMedia {...props} disk={disk} />}
          {step === 'hardware' && <StepHardware {...props} />}
          {step === 'disk' && <StepDisk {...props} disk={disk} />}
          {step === 'firmware' && <StepFirmware {...props} />}
          {step === 'network' && <StepNetwork {...props} />}
          {step === 'review' && (
            <StepReview
              form={form}
              disk={disk}
              problems={Object.values(stepErrors)}
              creating={creating}
              progress={progress}
              failure={failure}
            />
          )}
        </div>
        <div className="wiz-footer">
          <button
            type="button"
            onClick={() => navigate({ kind: 'list' })}
            disabled={creating}
            data-testid="wiz-cancel"
          >
            Cancel
          </button>
          <span className="wiz-blocked muted" data-testid="wiz-blocked" aria-live="polite">
            {blocked && firstHidden ? firstHidden : ''}
          </span>
          <button
            type="button"
            onClick={() => setIndex((i) => Math.max(i - 1, 0))}
            disabled={index === 0 || creating}
            data-testid="wiz-back"
          >
            Back
          </button>
          {/* The express path: every step past the media has defaults (from the OS detected or
              chosen), so once the whole request is valid the VM can be made and started from here. */}
          {(step !== 'name' || request) && (
            <button
              type="button"
              disabled={!request || creating}
              onClick={() => void create(true)}
              data-testid="wiz-create-start"
              title={
                request ? 'Create the VM with the settings so far and start it' : 'Fill in the steps first'
              }
            >
              Create and start
            </button>
          )}
          {step === 'review' ? (
            <button
              type="submit"
              className="primary"
              disabled={!request || creating}
              data-testid="wiz-create"
            >
              {creating ? 'Creating…' : 'Create'}
            </button>
          ) : (
            <button type="submit" className="primary" disabled={blocked} data-testid="wiz-next">
              Next
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
