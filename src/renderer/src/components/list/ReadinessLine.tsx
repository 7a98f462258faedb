// A running guest's readiness on its card: booting, cloud-init, waiting for an address, or ready
// with its IP and a "Copy SSH command" action. The engine watches the guest (engine/ready/watch.ts);
// this only shows its latest answer. A guest without an agent (most ISOs) shows nothing.
import { useState } from 'react';
import type { Readiness, VmSummary } from '../../../../shared/api-types';

const LABEL: Record<Readiness['stage'], string> = {
  booting: 'Booting…',
  'cloud-init': 'cloud-init is running…',
  agent: 'Waiting for an address…',
  ready: 'Ready',
  failed: 'cloud-init failed',
  'no-agent': '',
  'no-boot': 'Not booting',
};

/** The command a user would type, with the port Hangar forwards to the guest's sshd. */
export function sshCommand(r: Readiness): string | null {
  if (!r.ssh) return null;
  const who = r.ssh.user ? `${r.ssh.user}@${r.ssh.host}` : r.ssh.host;
  return `ssh -p ${r.ssh.port} ${who}`;
}

export function CopySsh({ readiness }: { readiness: Readiness }) {
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const command = sshCommand(readiness);
  if (!command) return null;
  const copy = () => {
    // The clipboard may be refused (an insecure origin, a denied permission): then the command is
    // shown in the button's title and the detail view, to copy by hand.
    navigator.clipboard.writeText(command).then(
      () => setCopied('yes'),
      () => setCopied('no'),
    );
  };
  return (
    <button
      type="button"
      className="link-button"
      onClick={copy}
      title={command}
      data-testid="copy-ssh"
      data-command={command}
    >
      {copied === 'yes' ? 'Copied' : copied === 'no' ? 'Copy failed: see title' : 'Copy SSH command'}
    </button>
  );
}

export function ReadinessLine({ vm }: { vm: VmSummary }) {
  const r = vm.readiness;
  if (vm.state !== 'running' || !r || r.stage === 'no-agent') return null;
  if (r.stage === 'no-boot') {
    // The firmware's verdict and the way out, in full: a Running badge alone would hide it.
    return (
      <p className="card-problem" data-testid="card-readiness" data-stage={r.stage}>
        {r.detail}
      </p>
    );
  }
  if (r.stage === 'failed') {
    return (
      <p className="card-problem" title={r.detail} data-testid="card-readiness" data-stage={r.stage}>
        {LABEL.failed}: {r.detail.split('\n')[0]}
      </p>
    );
  }
  return (
    <div className="card-activity" data-testid="card-readiness" data-stage={r.stage} title={r.detail}>
      {r.stage !== 'ready' && <span className="card-spinner" aria-hidden="true" />}
      <span className="card-activity-text">
        {LABEL[r.stage]}
        {r.ip && (
          <>
            {' · '}
            <span className="card-ip" data-testid="card-ip">
              {r.ip}
            </span>
          </>
        )}
      </span>
      {r.stage === 'ready' && <CopySsh readiness={r} />}
    </div>
  );
}
