// UI state of the card list that should survive a visit to a VM's detail and back: the filters,
// and which dialog is open. Nothing here mirrors the engine; that lives in store/vms.
import { create } from 'zustand';
import type { ListView } from './filter';

export type ListDialog =
  { kind: 'force-stop'; id: string; name: string } | { kind: 'snapshot'; id: string; name: string } | null;

interface ListUi extends ListView {
  dialog: ListDialog;
}

export const useListUi = create<ListUi>(() => ({ text: '', state: 'all', sort: 'name', dialog: null }));

export function openDialog(dialog: ListDialog): void {
  useListUi.setState({ dialog });
}

export function closeDialog(): void {
  useListUi.setState({ dialog: null });
}
