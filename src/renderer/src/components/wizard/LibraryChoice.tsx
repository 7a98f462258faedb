// The wizard's "From the library" media: the images in $HANGAR_HOME/images (engine/images). A
// disk image makes the VM a linked clone of it (made in milliseconds, the image never written);
// an ISO goes in the CD drive with a new disk; a catalog cloud image gets a cloud-init seed.
import { useEffect, useState } from 'react';
import type { ImageEntry } from '../../../../shared/images';
import { api } from '../../api/client';
import { errorMessage } from '../../store/notices';
import { CloudInitFields } from './CloudInitFields';
import { applyOsRecommendation, type LibraryChoice as Choice, type WizardForm } from './form';
import { bytesLabel, FieldError, type StepProps } from './Field';
import { osRecommendation } from './iso-check';

export function LibraryChoice(props: StepProps) {
  const { form, update, error, touch, host } = props;
  const [images, setImages] = useState<ImageEntry[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    api('image.list', {}).then(
      (list) => current && setImages(list),
      (err: unknown) => current && setFailure(errorMessage(err)),
    );
    return () => {
      current = false;
    };
  }, []);
  const choose = (m: ImageEntry) => {
    const choice: Choice = {
      id: m.id,
      name: m.name,
      format: m.format,
      virtualSize: m.virtualSize,
      cloud: m.defaultUser !== null,
    };
    touch('libraryImage');
    update((f) => {
      let next: WizardForm = { ...f, libraryImage: choice, osVariant: null };
      if (m.os?.shortId) next = applyOsRecommendation(next, osRecommendation(m.os.shortId, f.osType), host);
      // A clone starts at the image's size (in whole MiB, never below it); a typed size grows it.
      if (m.format !== 'iso') next = { ...next, diskSize: `${Math.ceil(m.virtualSize / 2 ** 20)}M` };
      return next;
    });
  };
  return (
    <div className="wiz-field" role="group" aria-label="Library image">
      {failure && <p className="field-error">{failure}</p>}
      {images === null && !failure && <p className="muted">Reading the library…</p>}
      {images?.length === 0 && (
        <p className="muted" data-testid="wiz-library-empty">
          The library is empty: add or download images on the <a href="#/library">Library</a> page.
        </p>
      )}
      <ul className="wiz-iso-list">
        {images?.map((m) => (
          <li key={m.id}>
            <button
              type="button"
              className="wiz-iso-option"
              aria-pressed={form.libraryImage?.id === m.id}
              onClick={() => choose(m)}
              data-testid="wiz-library-option"
            >
              <strong>{m.name}</strong>
              <span className="muted wiz-path">
                {m.os?.name ?? 'OS not known'} · {m.format === 'iso' ? 'ISO' : `${m.format} disk`} ·{' '}
                {bytesLabel(m.virtualSize)}
              </span>
            </button>
          </li>
        ))}
      </ul>
      <FieldError field="libraryImage" error={error('libraryImage')} />
      {form.libraryImage?.cloud && <CloudInitFields {...props} />}
    </div>
  );
}
