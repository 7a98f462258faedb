// Whether anything in the guest has the agent's channel open, asked of QEMU (query-chardev's
// frontend-open for the virtio-serial port): an answer at once, where pinging an agent that is not
// there costs the ping's whole timeout. A freeze waits for the agent only when this says yes.
import type { QmpClient } from '../qmp';

/** The chardev id of the agent's port in the VM's argv (qemu/argv.ts). */
const AGENT_CHARDEV = 'qga';

export async function agentPortOpen(qmp: QmpClient): Promise<boolean> {
  try {
    const devs = await qmp.execute<{ label: string; 'frontend-open'?: boolean }[]>('query-chardev');
    // A QEMU that does not say is asked the slow way.
    return devs.find((d) => d.label === AGENT_CHARDEV)?.['frontend-open'] !== false;
  } catch {
    return true;
  }
}
