// CD-ROM media: eject or insert an ISO, live while the VM runs (the engine also records it in
// vm.json). The ISO is chosen with the file dialog or from those the engine found on this host,
// never typed: the engine takes only grants from the UI.
import { useEffect, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import type { PickedFile } from '../../../../shared/requests';
import type { VmConfig } from '../../../../shared/vm';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';
import { PickFile } from '../PickFile';
import { foundIsos } from '../../api/pick';

export function MediaPanel({ vm, config }: { vm: VmSummary; config: VmConfig }) {
  const [chosen, setChosen] = useState<PickedFile | null>(null);
  const [drive, setDrive] = useState(config.cdroms[0]?.id ?? '');
  const [isos, setIsos] = useState<PickedFile[]>([]);
  useEffect(() => {
    // Suggestions only; without them Choose… still works.
    api('host.isos', {})
      .then((r) => {
        const found = foundIsos(r);
        const seen = new Set<string>();
        setIsos([...found.recent, ...found.downloads].filter((f) => !seen.has(f.path) && !!seen.add(f.path)));
      })
      .catch(() => undefined);
  }, []);

  if (config.cdroms.length === 0) {
    return (
      <section className="detail-media" aria-label="CD-ROM">
        <h3>CD-ROM</h3>
        <p className="muted">This VM has no CD-ROM drive.</p>
      </section>
    );
  }
  const insert = async () => {
    if (!chosen) return;
    const done = await attempt('Could not insert the disc', () =>
      api('media.insert', { vm: vm.id, path: chosen.grant, drive: drive || undefined }),
    );
    if (done) setChosen(null);
  };

  return (
    <section className="detail-media" aria-label="CD-ROM">
      <h3>CD-ROM</h3>
      <p className="muted detail-hint">Discs can be changed while the VM runs.</p>
      <ul className="detail-drives">
        {config.cdroms.map((cd) => (
          <li key={cd.id}>
            <span className="detail-drive-id">{cd.id}</span>
            <span className="detail-drive-media" data-testid="media-current">
              {cd.media ?? <em className="muted">empty</em>}
            </span>
            <button
              type="button"
              data-testid="media-eject"
              disabled={!cd.media}
              onClick={() =>
                void attempt('Could not eject the disc', () =>
                  api('media.eject', { vm: vm.id, drive: cd.id }),
                )
              }
            >
              Eject
            </button>
          </li>
        ))}
      </ul>
      <form
        className="detail-insert"
        onSubmit={(e) => {
          e.preventDefault();
          void insert();
        }}
      >
        {config.cdroms.length > 1 && (
          <select aria-label="Drive" value={drive} onChange={(e) => setDrive(e.target.value)}>
            {config.cdroms.map((cd) => (
              <option key={cd.id} value={cd.id}>
                {cd.id}
              </option>
            ))}
          </select>
        )}
        <PickFile purpose="iso" label="ISO file" value={chosen} onPick={setChosen} testId="media" />
        {isos.length > 0 && (
          <select
            aria-label="ISO found on this computer"
            data-testid="media-found"
            value=""
            onChange={(e) => setChosen(isos.find((f) => f.path === e.target.value) ?? null)}
          >
            <option value="" disabled>
              Or one found here…
            </option>
            {isos.map((f) => (
              <option key={f.path} value={f.path}>
                {f.name}
              </option>
            ))}
          </select>
        )}
        <button type="submit" data-testid="media-insert" disabled={!chosen}>
          Insert
        </button>
      </form>
    </section>
  );
}
