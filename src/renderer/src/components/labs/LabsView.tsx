// The Labs view: every lab with its picture and verbs, and an editor for a new or changed lab.
import { useEffect, useState } from 'react';
import { errorMessage, notify } from '../../store/notices';
import { refreshLabs, startLabSync, useLabs } from '../../store/labs';
import { LabEditor } from './LabEditor';
import { LabPanel } from './LabPanel';

export function LabsView() {
  const { labs, loaded } = useLabs();
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    startLabSync();
    refreshLabs().catch((err: unknown) => notify('error', 'Labs', errorMessage(err)));
  }, []);
  return (
    <div className="labs" data-testid="labs-view">
      <div className="list-toolbar">
        <button type="button" className="primary" data-testid="lab-new" onClick={() => setEditing(true)}>
          New lab
        </button>
      </div>
      {editing && <LabEditor onDone={() => setEditing(false)} />}
      {loaded && labs.length === 0 && !editing && (
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
