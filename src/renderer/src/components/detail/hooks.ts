// Reading one VM from the mirror and its full config from the engine, for the detail tabs.
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { VmDetail as VmDetailData } from '../../../../shared/api';
import type { VmSummary } from '../../../../shared/api-types';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';
import { useVms } from '../../store/vms';
import type { Observable } from '../../consoles/observable';

export function useVmSummary(id: string): VmSummary | undefined {
  return useVms((s) => s.vms.find((v) => v.id === id));
}

/** vm.get, fetched again whenever the engine says this VM's config changed. */
export function useVmDetail(id: string): VmDetailData | null {
  const version = useVms((s) => s.configVersion[id] ?? 0);
  const [detail, setDetail] = useState<VmDetailData | null>(null);
  useEffect(() => {
    let current = true;
    void attempt('Could not load the VM', () => api('vm.get', { vm: id })).then((d) => {
      if (current && d) setDetail(d);
    });
    return () => {
      current = false;
    };
  }, [id, version]);
  return detail;
}

export function useObservable<T>(o: Observable<T>): T {
  return useSyncExternalStore(o.subscribe, o.get);
}
