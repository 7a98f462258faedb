// The Library page (#/library): the images in $HANGAR_HOME/images with their OS, size, source and
// the VMs that use them; adding a file the user picks (a disk image, an ISO, or an OVA, which
// becomes a VM); the download catalog, each entry verified against its vendor's checksums.
import { useCallback, useEffect, useState } from 'react';
import type { CatalogItem, ImageEntry } from '../../../../shared/images';
import { importOvaFile } from './import-ova';
import { api } from '../../api/client';
import { pickFile } from '../../api/pick';
import { errorMessage, notify } from '../../store/notices';
import { useVms } from '../../store/vms';
import { bytesLabel } from '../wizard/Field';

function source(m: ImageEntry): string {
  const v = m.source.verified;
  const verified = v ? `, ${v.algorithm} verified` : '';
  if (m.source.kind === 'download') return `Downloaded${verified}`;
  if (m.source.originalFormat && m.source.originalFormat !== m.format)
    return `Converted from ${m.source.originalFormat}${verified}`;
  return `Added from a file${verified}`;
}

export function LibraryView() {
  const [images, setImages] = useState<ImageEntry[] | null>(null);
  const [catalog, setCatalog] = useState<CatalogItem[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const progress = useVms((s) => s.progress['images']);

  const refresh = useCallback(async () => {
    const [list, cat] = await Promise.all([api('image.list', {}), api('image.catalog', {})]);
    setImages(list);
    setCatalog(cat);
  }, []);
  useEffect(() => {
    refresh().catch((err: unknown) => notify('error', 'Library', errorMessage(err)));
  }, [refresh]);

  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(what);
    try {
      await fn();
      await refresh();
    } catch (err) {
      notify('error', what, errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const add = () =>
    run('Add image', async () => {
      const file = await pickFile('file');
      if (!file) return;
      if (/\.ova$/i.test(file.name)) {
        await importOvaFile(file);
        return;
      }
      const m = await api('image.add', { path: file.grant });
      notify('info', 'Added to the library', `${m.name} (${m.format}, ${bytesLabel(m.virtualSize)})`);
    });

  return (
    <div className="library" data-testid="library-view">
      <h1 className="page-title" tabIndex={-1}>
        Library
      </h1>
      <div className="list-toolbar">
        <button
          type="button"
          className="primary"
          onClick={() => void add()}
          disabled={busy !== null}
          data-testid="library-add"
        >
          Add or import a file…
        </button>
        <span className="muted">
          qcow2, raw, ISO; vmdk, vdi, vhdx and VHD are converted; an OVA becomes a VM.
        </span>
      </div>
      {progress && (
        <p className="library-progress" role="status" data-testid="library-progress">
          {progress.operation}: {progress.step} ({progress.percent}%)
        </p>
      )}
      <h2>Images</h2>
      {images?.length === 0 && (
        <p className="empty" data-testid="library-empty">
          No images yet: add a file, or download one from the catalog below.
        </p>
      )}
      {images && images.length > 0 && (
        <table className="library-table" data-testid="library-images">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">OS</th>
              <th scope="col">Format</th>
              <th scope="col">Size</th>
              <th scope="col">Source</th>
              <th scope="col">Used by</th>
              <th scope="col">
                <span className="detail-sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {images.map((m) => (
              <tr key={m.id} data-testid="library-image">
                <th scope="row">
                  {m.name}
                  <span className="muted library-id" title={`SHA-256 ${m.id}`}>
                    {' '}
                    {m.id.slice(0, 12)}
                  </span>
                </th>
                <td>{m.os?.name ?? '—'}</td>
                <td>{m.format}</td>
                <td>{bytesLabel(m.virtualSize)}</td>
                <td>{source(m)}</td>
                <td>{m.usedBy.length ? m.usedBy.join(', ') : 'No VM'}</td>
                <td className="library-actions">
                  <button
                    type="button"
                    disabled={busy !== null}
                    onClick={() =>
                      void run('Verify', async () => {
                        const [r] = await api('image.verify', { image: m.id });
                        notify(
                          r?.ok ? 'info' : 'error',
                          `Verify ${m.name}`,
                          r?.ok
                            ? 'The file is as it was added.'
                            : `The file changed: its SHA-256 is now ${r?.actual}.`,
                        );
                      })
                    }
                  >
                    Verify
                  </button>
                  <button
                    type="button"
                    disabled={busy !== null || m.usedBy.length > 0}
                    title={
                      m.usedBy.length ? `Used by ${m.usedBy.join(', ')}: delete those VMs first.` : undefined
                    }
                    aria-label={`Remove ${m.name}`}
                    onClick={() =>
                      void run('Remove', async () => {
                        if (!window.confirm(`Remove ${m.name} from the library?`)) return;
                        await api('image.remove', { image: m.id });
                      })
                    }
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Catalog</h2>
      <p className="muted">
        Downloads resume after a broken connection and are checked against the vendor's published checksums;
        nothing unverified is kept.
      </p>
      <ul className="library-catalog" data-testid="library-catalog">
        {catalog?.map((e) => (
          <li key={e.id} data-testid="catalog-entry">
            <span>
              <strong>{e.name}</strong>
              <span className="muted">
                {' '}
                {e.kind === 'cloud'
                  ? `cloud image${e.defaultUser ? `, user ${e.defaultUser}` : ''}`
                  : 'installer ISO'}
                {e.os ? ` · ${e.os.shortId}` : ''}
              </span>
            </span>
            <button
              type="button"
              disabled={busy !== null || e.pulled !== null}
              data-testid={`catalog-pull-${e.id}`}
              onClick={() =>
                void run(`Download ${e.id}`, async () => {
                  const m = await api('image.pull', { id: e.id });
                  notify(
                    'info',
                    'Downloaded and verified',
                    `${m.name}: ${m.source.verified?.algorithm ?? ''} matches.`,
                  );
                })
              }
            >
              {e.pulled ? 'In the library' : busy === `Download ${e.id}` ? 'Downloading…' : 'Download'}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
