// Bulk actions on the ticked cards: which of them each action applies to (the rest are named as
// skipped, with why), so the confirmation lists exactly what will happen before the click.
import type { VmSummary } from '../../../../shared/api-types';
import type { BulkAction } from './view';

export interface BulkPlan {
  act: VmSummary[];
  skip: { vm: VmSummary; why: string }[];
}

const stopped = (v: VmSummary) => v.state === 'stopped' || v.state === 'crashed';

function reason(action: BulkAction, v: VmSummary): string | null {
  if (v.error) return 'its vm.json cannot be read';
  if (v.busy) return `${v.busy} is under way`;
  if (action === 'start')
    return v.template ? 'a template is never started' : stopped(v) ? null : 'already running';
  if (action === 'stop') return v.state === 'running' ? null : 'not running';
  if (action === 'reset') return v.baseline ? null : 'it has no baseline';
  return stopped(v) ? null : 'stop it first';
}

export function planBulk(action: BulkAction, vms: readonly VmSummary[]): BulkPlan {
  const plan: BulkPlan = { act: [], skip: [] };
  // By name, as the user reads the confirmation (the store's order is by id).
  for (const vm of [...vms].sort((a, b) => a.name.localeCompare(b.name))) {
    const why = reason(action, vm);
    if (why) plan.skip.push({ vm, why });
    else plan.act.push(vm);
  }
  // Clones before their templates, so a delete never trips over a clone deleted later in the list.
  if (action === 'delete') plan.act.sort((a, b) => Number(!!b.linkedTo) - Number(!!a.linkedTo));
  return plan;
}

export const BULK_LABEL: Record<BulkAction, string> = {
  start: 'Start',
  stop: 'Shut down',
  reset: 'Reset to baseline',
  delete: 'Delete',
};
