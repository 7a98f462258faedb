// Live performance samples of running VMs, from the engine's once-a-second 'stats' events. Kept
// apart from the VM list so a sample re-renders only what shows figures (a card's sparkline, the
// Performance tab), never the list. The last minute per VM is kept here; the tab asks the engine
// for the last ten when it opens.
import { create } from 'zustand';
import type { StatsSample } from '../../../shared/api-types';

export const CARD_SAMPLES = 60;

export const useStats = create<{ samples: Record<string, StatsSample[]> }>(() => ({ samples: {} }));

export function applyStats(batch: { samples: { id: string; sample: StatsSample }[] }): void {
  useStats.setState((st) => {
    const samples: Record<string, StatsSample[]> = {};
    // VMs missing from a batch stopped: their figures go.
    for (const { id, sample } of batch.samples) {
      const kept = st.samples[id] ?? [];
      samples[id] = [...kept.slice(-(CARD_SAMPLES - 1)), sample];
    }
    return { samples };
  });
}
