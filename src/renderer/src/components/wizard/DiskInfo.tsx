// What qemu-img says about the chosen image, read through the engine (disk.info with the image's
// grant); the engine's error is shown as is, because it says what to do. An image built on other
// files shows that chain: the user confirmed it in the file dialog when choosing the image (a
// confirmation in this page would be worth nothing: the engine does not take the page's word).
import { useEffect, useState } from 'react';
import type { BackingLink } from '../../../../shared/vm';
import { api } from '../../api/client';
import { errorMessage } from '../../store/notices';
import { bytesLabel, errorId } from './Field';
import type { DiskLookup } from './validate';

export interface DiskFacts extends DiskLookup {
  virtualSize?: number;
  backingFile?: string | null;
  chain?: BackingLink[];
}

/** Looks the chosen image up; an answer for an earlier choice is dropped. */
export function useDiskFacts(grant: string | undefined, enabled: boolean): DiskFacts | null {
  const [facts, setFacts] = useState<DiskFacts | null>(null);
  useEffect(() => {
    if (!enabled || !grant) return;
    let current = true;
    api('disk.info', { path: grant }).then(
      (info) => {
        if (current)
          setFacts({
            grant,
            format: info.format,
            virtualSize: info.virtualSize,
            backingFile: info.backingFile,
            chain: info.backingChain,
            chainError: info.backingChainError,
          });
      },
      (err: unknown) => {
        if (current) setFacts({ grant, error: errorMessage(err) });
      },
    );
    return () => {
      current = false;
    };
  }, [grant, enabled]);
  return facts;
}

function Chain({ chain }: { chain: BackingLink[] }) {
  return (
    <>
      <dt>Built on</dt>
      <dd>
        <ol className="wiz-chain" data-testid="wiz-disk-chain">
          {chain.map((l) => (
            <li key={l.path}>
              <span className="wiz-path">{l.path}</span> <span className="muted">({l.format})</span>
            </li>
          ))}
        </ol>
        <span className="muted">
          A VM using this image reads these files too. You said you trust them when you chose the image; to
          change that, choose the image again.
        </span>
      </dd>
    </>
  );
}

export function DiskInfo({
  facts,
  grant,
  field = 'diskImage',
}: {
  facts: DiskFacts | null;
  grant: string | undefined;
  /** The file field this describes: its errors carry that field's id. */
  field?: 'diskImage' | 'cloudImage';
}) {
  if (!grant) return null;
  if (!facts || facts.grant !== grant) {
    return (
      <p className="wiz-disk-info muted" data-testid="wiz-disk-info" aria-live="polite">
        Reading the image…
      </p>
    );
  }
  if (facts.error) {
    // The engine's own words (missing file, unreadable header...); the field shows no second copy.
    return (
      <div className="wiz-disk-info" data-testid="wiz-disk-info" aria-live="polite">
        <span id={errorId(field)} className="field-error" data-testid="field-error">
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
      {facts.chain && facts.chain.length > 0 ? (
        <Chain chain={facts.chain} />
      ) : (
        <>
          <dt>Backing file</dt>
          <dd className="wiz-path">{facts.backingFile ?? 'none'}</dd>
        </>
      )}
      {facts.chainError && (
        <span id={errorId(field)} className="field-error" data-testid="field-error">
          {facts.chainError}
        </span>
      )}
    </dl>
  );
}
