// Recognising the OS on an ISO the user picked (iso.identify: its volume descriptor against
// osinfo-db's media patterns) and turning what osinfo says into the wizard's defaults.
import { useEffect } from 'react';
import type { CatalogOs } from '../../../../shared/images';
import type { OsType } from '../../../../shared/vm';
import { api } from '../../api/client';
import { applyOsRecommendation, type HostBounds, type OsRecommendation, type WizardForm } from './form';

export function familyOf(os: Pick<CatalogOs, 'family' | 'shortId'>, fallback: OsType): OsType {
  if (os.family === 'winnt') return /win11|2022|2025/.test(os.shortId) ? 'windows11' : 'windows10';
  if (os.family === 'linux') return 'linux';
  if (/bsd/.test(os.family ?? '') || /bsd/.test(os.shortId)) return 'bsd';
  return fallback;
}

export function recommendationOf(os: CatalogOs, fallback: OsType): OsRecommendation {
  return {
    shortId: os.shortId,
    osType: familyOf(os, fallback),
    cpus: os.recommended.cpus ?? os.minimum.cpus,
    memoryMiB: os.recommended.memoryMiB ?? os.minimum.memoryMiB,
    diskBytes: os.recommended.diskBytes ?? os.minimum.diskBytes,
  };
}

/** A library image's recorded OS, before osinfo's details arrive: the variant alone. */
export function osRecommendation(shortId: string, fallback: OsType): OsRecommendation {
  return { shortId, osType: fallback, cpus: null, memoryMiB: null, diskBytes: null };
}

/** Asks the engine what the picked ISO is, and applies a recognised OS's defaults. */
export function useIsoCheck(
  form: WizardForm,
  host: HostBounds | null,
  update: (change: (f: WizardForm) => WizardForm) => void,
): void {
  const grant = form.media === 'iso' ? form.iso?.grant : undefined;
  useEffect(() => {
    if (!grant) return;
    let current = true;
    api('iso.identify', { path: grant }).then(
      (r) => {
        if (!current) return;
        update((f) => {
          if (f.iso?.grant !== grant) return f;
          const checked = {
            ...f,
            isoCheck: {
              grant,
              kind: r.kind,
              volumeId: r.volumeId,
              os: r.os ? { shortId: r.os.shortId, name: r.os.name } : null,
            },
          };
          return r.os
            ? applyOsRecommendation(checked, recommendationOf(r.os, f.osType), host)
            : { ...checked, osVariant: null };
        });
      },
      // Recognition is a convenience: without it the user's own choices stand.
      () => {},
    );
    return () => {
      current = false;
    };
  }, [grant, host, update]);
}
