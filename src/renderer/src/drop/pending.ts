// A dropped ISO or disk waiting for the wizard, which takes it into its form (Wizard.tsx).
import { create } from 'zustand';
import type { Dropped } from './receive';

export const usePendingDrop = create<{ dropped: Dropped | null }>(() => ({ dropped: null }));
