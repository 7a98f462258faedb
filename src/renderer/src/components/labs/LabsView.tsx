// The Labs view: every lab with its picture and verbs, and an editor for a new or changed lab.
import { useEffect, useState } from 'react';
import { errorMessage, notify } from '../../store/notices';
import { refreshLabs, startLabSync, useLabs } from '../../store/labs';
import { LabEditor } from './LabEditor';
import { LabPanel } from './LabPanel';
import { LabExport } from './LabExport';

export function LabsView() {
  const { labs, loaded } = useLabs();
  // The editor's starting text (a new lab, or one just exported), or null when it is closed.
  const [editing, setEditing] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  useEffect(() => {
    startLabSync();
    refreshLabs().catch((err: unknown) => notify('error', 'Labs', errorMessage(err)));
  }, []);
  return (
    <div className="labs" data-testid="labs-view">
      <h1 className="page-title" tabIndex={-1}>
        Labs
      </h1>
      <div className="list-toolbar">
        <button type="button" className="primary" data-testid="lab-new" onClick={() => setEditing('')}>
          New lab
        </button>
        <button type="button" data-testid="lab-export-open" onClick={() => setExporting(true)}>
          Export as lab…
        </button>
      </div>
      {exporting && (
        <LabExport
          onDone={() => setExporting(false)}
          onExported={(text) => {
            setExporting(false);
            setEditing(text);
          }}
        />
      )}
      {editing !== null && (
        <LabEditor key={editing} initial={editing || undefined} onDone={() => setEditing(null)} />
      )}
      {loaded && labs.length === 0 && editing === null && (
        <p className="empty" data-testid="labs-empty">
          No labs yet. A lab is a set of VMs and the networks between them, from one file: New lab, or hangar
          lab up FILE.
        </p>
      )}
      {labs.map((lab) => (
        <LabPanel key={lab.name} lab={lab} />
      ))}
    </div>
  );
}
