// One lab: its picture, its VMs (state, DNS name, address, forwards, what the lab is doing to
// each), and Up / Down / Reset / Destroy. Destroy asks first, naming the VMs it deletes.
import { useState } from 'react';
import type { LabStatus } from '../../../../shared/lab/status';
import { api } from '../../api/client';
import { errorMessage, notify } from '../../store/notices';
import { labVerb, useLabs } from '../../store/labs';
import { navigate } from '../../store/ui';
import { Topology } from './Topology';

export function LabPanel({ lab }: { lab: LabStatus }) {
  const busy = useLabs((s) => s.busy[lab.name]);
  const activity = useLabs((s) => s.activity);
  const [confirming, setConfirming] = useState(false);
  const run = (verb: string, fn: () => Promise<unknown>, done: (r: unknown) => string) =>
    labVerb(lab.name, verb, fn).then(
      (r) => notify('info', `Lab ${lab.name}`, done(r)),
      (err: unknown) => notify('error', `Lab ${lab.name}: ${verb} failed`, errorMessage(err)),
    );
  const running = lab.vms.some((v) => v.state === 'running' || v.state === 'paused');
  const made = lab.vms.filter((v) => v.id && !v.borrowed);
  const lent = lab.vms.filter((v) => v.id && v.borrowed);
  return (
    <section className="lab-panel" data-testid="lab-panel" data-lab={lab.name} aria-label={`Lab ${lab.name}`}>
      <div className="lab-head">
        <h2>{lab.name}</h2>
        <span className="lab-switch" data-testid="lab-switch">
          {lab.switch
            ? `switch running (${lab.switch.segments.map((s) => `${s.name}: ${s.ports} connected`).join(', ')})`
            : lab.networks.some((n) => !n.isolated)
              ? 'no switch: networks on multicast, not isolated'
              : 'switch stopped'}
        </span>
        {busy && (
          <span className="lab-busy" role="status" data-testid="lab-busy">
            {busy}…
          </span>
        )}
      </div>
      <div className="lab-actions">
        <button
          type="button"
          className="primary"
          disabled={!!busy}
          data-testid="lab-up"
          onClick={() =>
            void run(
              'up',
              () => api('lab.up', { text: lab.text }),
              () => 'is up.',
            )
          }
        >
          Up
        </button>
        <button
          type="button"
          disabled={!!busy || !running}
          title={running ? 'Save every VM’s memory and power off' : 'Nothing is running'}
          data-testid="lab-down"
          onClick={() =>
            void run(
              'down',
              () => api('lab.down', { lab: lab.name }),
              () => 'is down; Up resumes it.',
            )
          }
        >
          Down
        </button>
        <button
          type="button"
          disabled={!!busy || !lab.baseline || !running}
          title={
            lab.baseline
              ? 'Every VM back to the lab baseline'
              : 'This lab has no baseline (baseline: on-ready)'
          }
          data-testid="lab-reset"
          onClick={() =>
            void run(
              'reset',
              () => api('lab.reset', { lab: lab.name }),
              (r) => `was reset to its baseline in ${Math.round((r as { ms: number }).ms)} ms.`,
            )
          }
        >
          Reset
        </button>
        {!confirming ? (
          <button
            type="button"
            className="danger"
            disabled={!!busy}
            data-testid="lab-destroy"
            onClick={() => setConfirming(true)}
          >
            Destroy…
          </button>
        ) : (
          <span className="lab-confirm" role="alertdialog" aria-label="Destroy the lab">
            Delete {made.map((v) => v.vmName).join(', ') || 'the lab'}?
            {lent.length > 0 &&
              ` ${lent.map((v) => v.vmName).join(', ')} will be shut down and given back, not deleted.`}
            <button
              type="button"
              className="danger"
              data-testid="lab-destroy-confirm"
              onClick={() => {
                setConfirming(false);
                void run(
                  'destroy',
                  () => api('lab.destroy', { lab: lab.name }),
                  () => 'was destroyed.',
                );
              }}
            >
              Delete
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        )}
      </div>
      <Topology lab={lab} />
      <table className="lab-vms">
        <thead>
          <tr>
            <th>VM</th>
            <th>State</th>
            <th>Name on the lab network</th>
            <th>Address</th>
            <th>Forwards</th>
            <th>Now</th>
          </tr>
        </thead>
        <tbody>
          {lab.vms.map((vm) => {
            const e = activity[`${lab.name}/${vm.vm}`];
            return (
              <tr key={vm.vm} data-testid="lab-vm" data-vm={vm.vm} data-state={vm.state}>
                <td>
                  {vm.id ? (
                    <button
                      type="button"
                      className="link"
                      onClick={() => navigate({ kind: 'vm', id: vm.id!, tab: 'console' })}
                    >
                      {vm.vmName}
                    </button>
                  ) : (
                    vm.vmName
                  )}
                </td>
                <td>{vm.state}</td>
                <td>{vm.addresses.map((a) => a.dns).join(', ')}</td>
                <td>{vm.addresses.map((a) => a.ip).join(', ')}</td>
                <td>
                  {vm.forwards
                    .map((f) => `localhost:${f.host} → ${f.guest}${f.proto === 'udp' ? '/udp' : ''}`)
                    .join(', ')}
                </td>
                <td className="lab-now">{e ? `${e.phase}${e.detail ? `: ${e.detail}` : ''}` : ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="lab-meta">
        Baseline: {lab.baseline ? new Date(lab.baseline).toLocaleString() : 'none'}
        {lab.saved ? ` · saved ${new Date(lab.saved).toLocaleString()} (Up resumes it)` : ''}
      </p>
    </section>
  );
}
