// CD-ROM media: eject or insert an ISO, live while the VM runs (the engine also records it in vm.json).
import { useEffect, useState } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import type { VmConfig } from '../../../../shared/vm';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';

export function MediaPanel({ vm, config }: { vm: VmSummary; config: VmConfig }) {
  const [path, setPath] = useState('');
  const [drive, setDrive] = useState(config.cdroms[0]?.id ?? '');
  const [isos, setIsos] = useState<string[]>([]);
  useEffect(() => {
    // Suggestions only; without them the field still takes any path.
    api('host.isos', {})
      .then((r) => setIsos([...new Set([...r.recent, ...r.downloads])]))
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
    const done = await attempt('Could not insert the disc', () =>
      api('media.insert', { vm: vm.id, path: path.trim(), drive: drive || undefined }),
    );
    if (done) setPath('');
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
        <label htmlFor="media-path" className="detail-sr-only">
          ISO file
        </label>
        <input
          id="media-path"
          data-testid="media-path"
          list="media-isos"
          placeholder="/path/to/disc.iso"
          value={path}
          onChange={(e) => setPath(e.target.value)}
        />
        <datalist id="media-isos">
          {isos.map((p) => (
            <option key={p} value={p} />
          ))}
        </datalist>
        <button type="submit" data-testid="media-insert" disabled={!path.trim()}>
          Insert
        </button>
      </form>
    </section>
  );
}
