// The VM's shared folder: which host folder the guest can mount, the commands that mount it, and
// choosing or stopping it. The folder is chosen in the file dialog (the native one in the desktop
// app, the host server's picker in a browser), never typed: the engine takes only a grant made
// for sharing from the UI. The share is set up at each start, so it changes while stopped.
import { useRef, useState, type ReactNode } from 'react';
import type { VmSummary } from '../../../../shared/api-types';
import { mountHelp } from '../../../../shared/share';
import type { VmConfig } from '../../../../shared/vm';
import { api } from '../../api/client';
import { pickFile } from '../../api/pick';
import { attempt } from '../../store/notices';
import { CopyButton } from '../CopyButton';

/** One of the share's modes as a checkbox; the engine's answer moves it (the config event). */
function ShareOption(props: {
  vm: string;
  field: 'shareReadOnly' | 'share9p';
  checked: boolean;
  locked: string | undefined;
  testId: string;
  children: ReactNode;
}) {
  return (
    <label className="detail-share-readonly" title={props.locked}>
      <input
        type="checkbox"
        data-testid={props.testId}
        checked={props.checked}
        disabled={props.locked !== undefined}
        onChange={(e) => {
          const patch = { [props.field]: e.currentTarget.checked };
          void attempt('Could not change the shared folder', () => api('vm.edit', { vm: props.vm, patch }));
        }}
      />{' '}
      {props.children}
    </label>
  );
}

export function SharedFolderPanel({ vm, config }: { vm: VmSummary; config: VmConfig }) {
  const [choosing, setChoosing] = useState(false);
  const busy = useRef(false);
  const stopped = vm.state === 'stopped' || vm.state === 'crashed';
  const share = config.sharedFolder;
  const help = mountHelp();
  const locked = stopped ? undefined : 'Stop the VM first: the share is set up when it starts.';

  const choose = async () => {
    // Not disabled while the dialog is open (that would drop keyboard focus); a second click waits.
    if (busy.current) return;
    busy.current = true;
    setChoosing(true);
    try {
      await attempt('Could not share the folder', async () => {
        const folder = await pickFile('folder');
        if (folder) await api('vm.edit', { vm: vm.id, patch: { sharedFolder: folder.grant } });
      });
    } finally {
      busy.current = false;
      setChoosing(false);
    }
  };

  return (
    <section className="detail-share" aria-label="Shared folder" data-testid="share-panel">
      <h3>Shared folder</h3>
      {!share ? (
        <p className="muted" data-testid="share-none">
          No folder is shared. A shared folder is one folder of this computer that the guest mounts over its
          NAT network, read-write or read-only.
        </p>
      ) : (
        <>
          <p>
            <code data-testid="share-path">{share.path}</code>{' '}
            <span className="muted" data-testid="share-mode">
              {share.readOnly ? 'read-only' : 'read-write'}
            </span>
          </p>
          <ShareOption
            vm={vm.id}
            field="shareReadOnly"
            checked={share.readOnly}
            locked={locked}
            testId="share-readonly"
          >
            Read-only: the guest can read the folder but not change it
          </ShareOption>
          <ShareOption
            vm={vm.id}
            field="share9p"
            checked={share.over9p}
            locked={locked}
            testId="share-over9p"
          >
            Also over 9p, for guest kernels that have it (a device in the guest; RAM snapshots need it
            unmounted)
          </ShareOption>
          <dl className="detail-share-mount">
            <dt>Linux guest</dt>
            <dd>
              <code data-testid="share-linux">{help.linux}</code>{' '}
              <CopyButton text={help.linux} label="the Linux mount command" />
            </dd>
            {share.over9p && (
              <>
                <dt>Linux guest with 9p</dt>
                <dd>
                  <code data-testid="share-9p">{help.linux9p}</code>{' '}
                  <CopyButton text={help.linux9p} label="the 9p mount command" />
                  <p className="muted detail-hint">
                    Needs no network; for kernels with 9p (Debian's generic kernel, not its cloud kernel).
                  </p>
                </dd>
              </>
            )}
            <dt>Windows guest</dt>
            <dd>
              <code data-testid="share-windows">{help.windows}</code>{' '}
              <CopyButton text={help.windows} label="the Windows share address" />
              <p className="muted detail-hint">{help.windowsNote}</p>
            </dd>
          </dl>
        </>
      )}
      <div className="detail-share-actions">
        <button
          type="button"
          data-testid="share-choose"
          disabled={!stopped}
          aria-busy={choosing || undefined}
          title={locked}
          onClick={() => void choose()}
        >
          {choosing
            ? 'Choose the folder in the file dialog…'
            : share
              ? 'Share another folder…'
              : 'Share a folder…'}
        </button>
        {share && (
          <button
            type="button"
            data-testid="share-stop"
            disabled={!stopped}
            title={locked}
            onClick={() =>
              void attempt('Could not stop sharing', () =>
                api('vm.edit', { vm: vm.id, patch: { sharedFolder: null } }),
              )
            }
          >
            Stop sharing
          </button>
        )}
      </div>
      {!stopped && <p className="muted detail-hint">Stop the VM to change the shared folder.</p>}
    </section>
  );
}
