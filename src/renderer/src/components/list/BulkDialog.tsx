// One confirmation for a bulk action: what happens to which VM, and which are skipped and why.
// Runs the action on each VM in turn; one notice sums up, naming any that failed.
import { api } from '../../api/client';
import { errorMessage, notify } from '../../store/notices';
import { useVms } from '../../store/vms';
import { BULK_LABEL, planBulk } from './bulk';
import { Dialog } from './Dialog';
import { closeDialog, useListUi, type BulkAction } from './view';

const CALL: Record<BulkAction, (vm: string) => Promise<unknown>> = {
  start: (vm) => api('vm.start', { vm }),
  stop: (vm) => api('vm.stop', { vm }),
  reset: (vm) => api('baseline.reset', { vm }),
  delete: (vm) => api('vm.delete', { vm }),
};

const WHAT: Record<BulkAction, string> = {
  start: 'These start:',
  stop: 'These are asked to shut down (the ACPI power button):',
  reset: 'These go back to their baseline; everything since is lost, and running ones restart:',
  delete: 'These are deleted with their own disks, snapshots and logs, for good:',
};

export function BulkDialog({ action, ids }: { action: BulkAction; ids: string[] }) {
  const vms = useVms((s) => s.vms);
  const plan = planBulk(
    action,
    vms.filter((v) => ids.includes(v.id)),
  );
  const run = async () => {
    closeDialog();
    const failed: string[] = [];
    for (const vm of plan.act) {
      try {
        await CALL[action](vm.id);
      } catch (err) {
        failed.push(`${vm.name}: ${errorMessage(err)}`);
      }
    }
    if (action === 'delete') {
      const gone = new Set(plan.act.map((v) => v.id));
      useListUi.setState((s) => ({ selected: s.selected.filter((id) => !gone.has(id)) }));
    }
    const done = plan.act.length - failed.length;
    notify(
      failed.length ? 'error' : 'info',
      `${BULK_LABEL[action]}: ${done} of ${plan.act.length}`,
      failed.length ? failed.join('\n') : plan.act.map((v) => v.name).join(', '),
    );
  };
  return (
    <Dialog
      title={`${BULK_LABEL[action]} ${plan.act.length} VMs?`}
      onClose={closeDialog}
      testId="bulk-dialog"
    >
      {plan.act.length > 0 ? (
        <>
          <p>{WHAT[action]}</p>
          <ul data-testid="bulk-act">
            {plan.act.map((v) => (
              <li key={v.id}>{v.name}</li>
            ))}
          </ul>
        </>
      ) : (
        <p>None of the selected VMs can do this now.</p>
      )}
      {plan.skip.length > 0 && (
        <>
          <p>Left as they are:</p>
          <ul data-testid="bulk-skip">
            {plan.skip.map((s) => (
              <li key={s.vm.id}>
                {s.vm.name}: {s.why}
              </li>
            ))}
          </ul>
        </>
      )}
      <div className="list-dialog-actions">
        <button type="button" onClick={closeDialog} data-testid="confirm-no" autoFocus>
          Cancel
        </button>
        <button
          type="button"
          className={action === 'delete' || action === 'reset' ? 'danger' : 'primary'}
          disabled={plan.act.length === 0}
          onClick={() => void run()}
          data-testid="confirm-yes"
        >
          {BULK_LABEL[action]}
        </button>
      </div>
    </Dialog>
  );
}
