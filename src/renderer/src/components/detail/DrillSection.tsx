// What a boot drill is, and what counts as "it booted" for the Drill buttons in the history. The
// engine's default is the guest agent answering, which only VMs with a cloud-init seed have; for
// others the user names a line the guest prints when it is up, or a port.
import type { VmSummary } from '../../../../shared/api-types';
import { useVmDetail } from './hooks';

export function DrillSection(p: {
  vm: VmSummary;
  check: string;
  setCheck: (check: string) => void;
  /** When the backup under drill was made, or null when none is. */
  drilling: string | null;
  disabled: boolean;
}) {
  const seeded = useVmDetail(p.vm.id)?.config.cloudInit;
  return (
    <section className="rb-section" aria-labelledby="bk-drill">
      <h2 id="bk-drill">Boot drill</h2>
      <p>
        A drill proves that a backup boots, not only that its bytes are intact: the backup is restored into a
        throwaway VM with no network, started, and watched until the check below passes (at most 5 minutes);
        its screen is kept as evidence and the VM is deleted.
      </p>
      <div className="drill-check">
        <label htmlFor="drill-check">Booted when</label>
        <input
          id="drill-check"
          data-testid="drill-check"
          value={p.check}
          maxLength={207}
          disabled={p.disabled}
          placeholder={seeded ? 'the guest agent answers' : 'serial:READY'}
          aria-describedby="drill-check-hint"
          onChange={(e) => p.setCheck(e.target.value)}
        />
      </div>
      <p id="drill-check-hint" className="muted" data-testid="drill-hint">
        {seeded
          ? 'Left empty, the guest agent answering is enough. '
          : `${p.vm.name} has no cloud-init seed, so most likely no guest agent: name a check. `}
        serial:TEXT waits for a line the guest prints on its serial console once it is up (for example
        serial:READY); port:N, for a port listening, needs the guest agent. The drill VM has no network, so
        ssh and http checks cannot pass.
      </p>
      {p.drilling && (
        <p className="rb-status" role="status" data-testid="drill-status">
          Drilling the backup of {p.drilling}: restoring it, starting it and waiting for the check. The other
          backup actions wait until it is over.
        </p>
      )}
    </section>
  );
}
