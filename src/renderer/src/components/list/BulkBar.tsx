// Shown while cards are ticked: how many, the bulk actions, and a way to clear the selection.
// Each action opens one confirmation that lists what it does to which VM (ListDialogs).
import { useShallow } from 'zustand/react/shallow';
import { useVms } from '../../store/vms';
import { BULK_LABEL } from './bulk';
import { openDialog, useListUi, type BulkAction } from './view';

const ACTIONS: BulkAction[] = ['start', 'stop', 'reset', 'delete'];

export function BulkBar() {
  const selected = useListUi((s) => s.selected);
  const vms = useVms(useShallow((s) => s.vms.filter((v) => selected.includes(v.id))));
  if (vms.length === 0) return null;
  return (
    <div className="bulk-bar" role="toolbar" aria-label="Selected VMs" data-testid="bulk-bar">
      <span>{vms.length} selected</span>
      {ACTIONS.map((action) => (
        <button
          key={action}
          type="button"
          className={action === 'delete' || action === 'reset' ? 'danger' : undefined}
          data-testid={`bulk-${action}`}
          onClick={() =>
            openDialog({ kind: 'bulk', action, vms: vms.map((v) => ({ id: v.id, name: v.name })) })
          }
        >
          {BULK_LABEL[action]}…
        </button>
      ))}
      <button type="button" className="link-button" onClick={() => useListUi.setState({ selected: [] })}>
        Clear selection
      </button>
    </div>
  );
}
