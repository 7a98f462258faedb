// What the guest says about itself while it runs, under the VM's header: readiness, its address,
// the SSH command through Hangar's forward, and cloud-init's status (with the end of its log when
// it failed, so the user sees why without opening a console).
import type { VmSummary } from '../../../../shared/api-types';
import { CopySsh, sshCommand } from '../list/ReadinessLine';

const STAGE: Record<string, string> = {
  booting: 'booting (waiting for the guest agent)',
  'cloud-init': 'cloud-init is running',
  agent: 'the agent answers; waiting for an address',
  ready: 'ready',
  failed: 'cloud-init failed',
  'no-boot': 'not booting',
};

export function GuestStatus({ vm }: { vm: VmSummary }) {
  const r = vm.readiness;
  if (vm.state !== 'running' || !r || r.stage === 'no-agent') return null;
  const ssh = sshCommand(r);
  return (
    <section
      className="guest-status"
      aria-label="Guest status"
      data-testid="guest-status"
      data-stage={r.stage}
    >
      <dl className="guest-status-facts">
        <dt>Guest</dt>
        <dd data-testid="guest-stage">{STAGE[r.stage] ?? r.stage}</dd>
        {r.cloudInit && (
          <>
            <dt>cloud-init</dt>
            <dd data-testid="guest-cloud-init">{r.cloudInit}</dd>
          </>
        )}
        {r.ip && (
          <>
            <dt>Address</dt>
            <dd data-testid="guest-ip">{r.ip}</dd>
          </>
        )}
        {ssh && (
          <>
            <dt>SSH</dt>
            <dd>
              <code data-testid="guest-ssh">{ssh}</code> <CopySsh readiness={r} />
            </dd>
          </>
        )}
      </dl>
      {r.stage === 'no-boot' && (
        <p className="field-error" role="alert" data-testid="guest-no-boot">
          {r.detail}
        </p>
      )}
      {r.stage === 'failed' && (
        <pre className="guest-status-log" data-testid="guest-cloud-init-log">
          {r.detail}
        </pre>
      )}
    </section>
  );
}
