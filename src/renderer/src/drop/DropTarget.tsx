// The whole window takes a dropped file: an ISO or a disk image opens the wizard with it chosen,
// an OVA is imported as a VM. While a file is dragged over, a banner says what a drop does; while
// a browser uploads a copy, it shows the progress. The browser's own drop (opening the file in
// place of the app) never happens.
import { useEffect, useRef, useState } from 'react';
import { importOvaFile } from '../components/library/import-ova';
import { errorMessage, notify } from '../store/notices';
import { navigate } from '../store/ui';
import { usePendingDrop } from './pending';
import { receiveDrop } from './receive';

const hasFiles = (e: DragEvent) => !!e.dataTransfer?.types.includes('Files');

async function takeDroppedFile(file: File, progress: (fraction: number) => void): Promise<void> {
  const dropped = await receiveDrop(file, progress);
  if (!dropped) return;
  if (dropped.copied)
    notify(
      'info',
      `Copied ${file.name}`,
      `Saved as ${dropped.file.path}: the browser does not say where files are.`,
    );
  if (dropped.kind === 'ova') {
    await importOvaFile(dropped.file);
    return;
  }
  usePendingDrop.setState({ dropped });
  navigate({ kind: 'new' });
}

export function DropTarget() {
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState<{ name: string; fraction: number } | null>(null);
  const depth = useRef(0);
  const working = useRef(false);

  useEffect(() => {
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current++;
      setOver(true);
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    };
    const overIt = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault(); // without this the drop event never comes
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length !== 1) {
        notify('error', 'Drop one file at a time', `${files.length} files were dropped.`);
        return;
      }
      if (working.current) {
        notify('error', 'A dropped file is still being copied', 'Wait for it to finish, then drop the next.');
        return;
      }
      const file = files[0]!;
      working.current = true;
      setBusy({ name: file.name, fraction: 0 });
      takeDroppedFile(file, (fraction) => setBusy({ name: file.name, fraction }))
        .catch((err: unknown) => notify('error', `Could not use ${file.name}`, errorMessage(err)))
        .finally(() => {
          working.current = false;
          setBusy(null);
        });
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', overIt);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', overIt);
      window.removeEventListener('drop', drop);
    };
  }, []);

  if (!over && !busy) return null;
  return (
    <div className="drop-banner" role="status" data-testid="drop-banner">
      {busy ? (
        <>
          Copying {busy.name} to Downloads…{' '}
          <progress value={busy.fraction} max={1} aria-label={`Copying ${busy.name}`} />
        </>
      ) : (
        'Drop an ISO or a disk image to make a VM with it, or an OVA to import it'
      )}
    </div>
  );
}
