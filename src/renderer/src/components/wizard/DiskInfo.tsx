// What qemu-img says about an existing image, read through the engine (disk.info) while the user
// types its path; the engine's error is shown as is, because it says what to do.
import { useEffect, useState } from 'react';
import { api } from '../../api/client';
import { errorMessage } from '../../store/notices';
import { bytesLabel, errorId } from './Field';
import type { DiskLookup } from './validate';

export interface DiskFacts extends DiskLookup {
  virtualSize?: number;
  backingFile?: string | null;
}

const DEBOUNCE_MS = 400;

/** Looks the path up after typing pauses; answers for an older path are dropped. */
export function useDiskFacts(path: string, enabled: boolean): DiskFacts | null {
  const [facts, setFacts] = useState<DiskFacts | null>(null);
  const wanted = path.trim();
  useEffect(() => {
    if (!enabled || !wanted.startsWith('/')) return;
    let current = true;
    const timer = setTimeout(() => {
      api('disk.info', { path: wanted }).then(
        (info) => {
          if (current)
            setFacts({
              path: wanted,
              format: info.format,
              virtualSize: info.virtualSize,
              backingFile: info.backingFile,
            });
        },
        (err: unknown) => {
          if (current) setFacts({ path: wanted, error: errorMessage(err) });
        },
      );
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [wanted, enabled]);
  return facts;
}

export function DiskInfo({ facts, path }: { facts: DiskFacts | null; path: string }) {
  const wanted = path.trim();
  if (!wanted.startsWith('/')) return null;
  if (!facts || facts.path !== wanted) {
    return (
      <p className="wiz-disk-info muted" data-testid="wiz-disk-info" aria-live="polite">
        Reading the image…
      </p>
    );
  }
  if (facts.error) {
    // The engine's own words (missing file, unreadable header...); the path field shows no second copy.
    return (
      <div className="wiz-disk-info" data-testid="wiz-disk-info" aria-live="polite">
        <span id={errorId('diskPath')} className="field-error" data-testid="field-error">
          {facts.error}
        </span>
      </div>
    );
  }
  return (
    <dl className="wiz-disk-info" data-testid="wiz-disk-info" aria-live="polite">
      <dt>Format</dt>
      <dd>{facts.format}</dd>
      <dt>Virtual size</dt>
      <dd>{facts.virtualSize === undefined ? '?' : bytesLabel(facts.virtualSize)}</dd>
      <dt>Backing file</dt>
      <dd className="wiz-path">{facts.backingFile ?? 'none'}</dd>
    </dl>
  );
}
