// VM configs for views that only need a few of their fields (template, linked clone, baseline):
// the list's summaries do not carry them. One vm.get per VM and config version, shared by every
// card and panel that asks, and asked again only when the engine reports a config change.
import { useEffect, useMemo, useState } from 'react';
import type { VmSummary } from '../../../shared/api-types';
import type { VmConfig } from '../../../shared/vm';
import { api } from '../api/client';
import { useVms } from '../store/vms';

const cache = new Map<string, { version: number; config: Promise<VmConfig | null> }>();

/** The config at this version; null when it cannot be read (the card shows that error already). */
export function fetchConfig(id: string, version: number): Promise<VmConfig | null> {
  const hit = cache.get(id);
  if (hit && hit.version === version) return hit.config;
  const config = api('vm.get', { vm: id }).then(
    (d) => d.config,
    () => null,
  );
  cache.set(id, { version, config });
  return config;
}

export function useVmConfig(id: string): VmConfig | null {
  const version = useVms((s) => s.configVersion[id] ?? 0);
  const [state, setState] = useState<{ id: string; config: VmConfig | null } | null>(null);
  useEffect(() => {
    let current = true;
    void fetchConfig(id, version).then((config) => {
      if (current) setState({ id, config });
    });
    return () => {
      current = false;
    };
  }, [id, version]);
  // A view reused for another VM must not show the previous VM's flags meanwhile.
  return state && state.id === id ? state.config : null;
}

/**
 * The linked clones of a template, from the list's summaries (each carries linkedTo): no request
 * per VM, and one pass over the list, however many VMs there are.
 */
export function useLinkedClones(templateId: string, enabled: boolean): VmSummary[] | null {
  // A string, so the selector's result compares equal while nothing relevant changed.
  const ids = useVms((s) =>
    enabled
      ? s.vms
          .filter((v) => v.linkedTo === templateId)
          .map((v) => v.id)
          .join(',')
      : '',
  );
  const vms = useVms((s) => s.vms);
  const loaded = useVms((s) => s.loaded);
  return useMemo(() => {
    if (!enabled || !loaded) return null;
    const wanted = new Set(ids ? ids.split(',') : []);
    return vms.filter((v) => wanted.has(v.id));
    // vms changes with every event; the clones only when their ids do.
  }, [ids, enabled, loaded]);
}
