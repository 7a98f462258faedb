// The VM's shared folder: which host folder the guest can mount, the commands that mount it, and
// a way to stop sharing. A folder is chosen with the CLI for now: the app never names a host
// folder itself (the engine refuses it from the UI), and the picker does not choose folders yet.
import type { VmSummary } from '../../../../shared/api-types';
import { mountHelp } from '../../../../shared/share';
import type { VmConfig } from '../../../../shared/vm';
import { api } from '../../api/client';
import { attempt } from '../../store/notices';
import { CopyButton } from '../CopyButton';

export function SharedFolderPanel({ vm, config }: { vm: VmSummary; config: VmConfig }) {
  const stopped = vm.state === 'stopped' || vm.state === 'crashed';
  const share = config.sharedFolder;
  const help = mountHelp();
  return (
    <section className="detail-share" aria-label="Shared folder" data-testid="share-panel">
      <h3>Shared folder</h3>
      {!share ? (
        <p className="muted" data-testid="share-none">
          No folder is shared. Share one with{' '}
          <code>hangar edit {JSON.stringify(config.name)} --share DIR</code>; the guest then mounts it over
          the VM's NAT network.
        </p>
      ) : (
        <>
          <p>
            <code data-testid="share-path">{share.path}</code> <span className="muted">read-write</span>
          </p>
          <dl className="detail-share-mount">
            <dt>Linux guest</dt>
            <dd>
              <code data-testid="share-linux">{help.linux}</code> <CopyButton text={help.linux} />
            </dd>
            <dt>Windows guest</dt>
            <dd>
              <code data-testid="share-windows">{help.windows}</code> <CopyButton text={help.windows} />
            </dd>
          </dl>
          <button
            type="button"
            data-testid="share-stop"
            disabled={!stopped}
            title={stopped ? undefined : 'Stop the VM first: the share is set up when it starts.'}
            onClick={() =>
              void attempt('Could not stop sharing', () =>
                api('vm.edit', { vm: vm.id, patch: { sharedFolder: null } }),
              )
            }
          >
            Stop sharing
          </button>
          {!stopped && (
            <p className="muted detail-hint">
              Stop the VM to stop sharing; the share is set up at each start.
            </p>
          )}
        </>
      )}
    </section>
  );
}
