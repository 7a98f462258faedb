// UI state of the card list that should survive a visit to a VM's detail and back: the filters,
// and which dialog is open. Nothing here mirrors the engine; that lives in store/vms.
import { create } from 'zustand';
import type { ListView } from './filter';

export type BulkAction = 'start' | 'stop' | 'reset' | 'delete';

export type ListDialog =
  | { kind: 'force-stop'; id: string; name: string }
  | { kind: 'snapshot'; id: string; name: string }
  | { kind: 'bulk'; action: BulkAction; vms: { id: string; name: string }[] }
  | null;

interface ListUi extends ListView {
  dialog: ListDialog;
  /** Ids of the cards ticked for a bulk action. */
  selected: string[];
}

export const useListUi = create<ListUi>(() => ({
  text: '',
  state: 'all',
  sort: 'name',
  tag: '',
  dialog: null,
  selected: [],
}));

export function toggleSelected(id: string): void {
  useListUi.setState((s) => ({
    selected: s.selected.includes(id) ? s.selected.filter((x) => x !== id) : [...s.selected, id],
  }));
}

export function openDialog(dialog: ListDialog): void {
  useListUi.setState({ dialog });
}

export function closeDialog(): void {
  useListUi.setState({ dialog: null });
}
