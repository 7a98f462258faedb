// "Export as lab": pick VMs, get a lab file with all of them on one network. The file is saved
// through the browser's own download (the engine writes no host file for the renderer) and
// opened in the lab editor, to adjust and apply.
import { useState } from 'react';
import { DnsLabel } from '../../../../shared/lab/schema';
import { api } from '../../api/client';
import { errorMessage, notify } from '../../store/notices';
import { useVms } from '../../store/vms';

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/yaml' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function LabExport({
  onDone,
  onExported,
}: {
  onDone: () => void;
  onExported: (text: string) => void;
}) {
  // The list as stored, filtered here: a selector returning a new array each time never settles.
  const vms = useVms((s) => s.vms).filter((v) => !v.error);
  const [picked, setPicked] = useState<string[]>([]);
  const [name, setName] = useState('exported');
  const nameOk = DnsLabel.safeParse(name).success;
  const run = () =>
    api('lab.export', { lab: name, vms: picked }).then(
      ({ text }) => {
        download(`${name}.lab.yaml`, text);
        onExported(text);
      },
      (err: unknown) => notify('error', 'Export as lab', errorMessage(err)),
    );
  return (
    <section className="lab-export" aria-label="Export as lab" data-testid="lab-export">
      <h3>Export as lab</h3>
      <label>
        Lab name{' '}
        <input
          value={name}
          aria-invalid={!nameOk}
          data-testid="lab-export-name"
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      {!nameOk && (
        <p className="lab-errors">Use lowercase letters, digits and dashes, starting with a letter.</p>
      )}
      <ul>
        {vms.map((v) => (
          <li key={v.id}>
            <label>
              <input
                type="checkbox"
                checked={picked.includes(v.id)}
                data-testid={`lab-export-vm-${v.name}`}
                onChange={(e) =>
                  setPicked((p) => (e.target.checked ? [...p, v.id] : p.filter((x) => x !== v.id)))
                }
              />{' '}
              {v.name}
            </label>
          </li>
        ))}
      </ul>
      <div className="lab-editor-bar">
        <button
          type="button"
          className="primary"
          disabled={!picked.length || !nameOk}
          data-testid="lab-export-run"
          onClick={() => void run()}
        >
          Write lab file
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </section>
  );
}
