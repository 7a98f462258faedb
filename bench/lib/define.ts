// Many stopped VMs at once, written straight through the config store: what the UI and engine
// figures at 200 and 1,000 VMs start from (creating them through the API would take minutes).
import { join } from 'node:path';
import { probeHost } from '../../src/main/engine/probe';
import { planVm } from '../../src/main/engine/vms/create';
import { ConfigStore, newMac, newVmId, parseConfig } from '../../src/main/engine/config/store';
import { CreateVmRequest } from '../../src/shared/requests';

/** Writes `count` stopped VMs (no disk: they need not run) straight through the config store. */
export async function defineVms(home: string, env: NodeJS.ProcessEnv, count: number): Promise<void> {
  const host = await probeHost({ env, cacheFile: join(home, 'cache', 'probe.json') });
  const base = planVm(
    CreateVmRequest.parse({ name: 'x', cpus: 1, memoryMiB: 256, disk: { kind: 'none' } }),
    host,
  );
  const store = new ConfigStore(home);
  for (let i = 0; i < count; i++) {
    const nics = base.nics.map((n) => ({ ...n, mac: newMac() }));
    store.create(parseConfig({ ...base, id: newVmId(), name: `vm-${String(i).padStart(4, '0')}`, nics }));
  }
}
