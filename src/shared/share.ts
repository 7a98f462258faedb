// Where a VM's shared folder appears in the guest: QEMU's user-mode network serves it as SMB at a
// fixed address under a fixed name (engine/share/folder.ts), and a virtio-9p device offers it under
// a fixed tag, so the mount commands are the same for every VM. The app and `hangar info` show these.
export const SHARE_HOST = '10.0.2.4';
export const SHARE_NAME = 'qemu';
/** The same folder over virtio-9p, for guest kernels that have 9p (not Debian's cloud kernel). */
export const SHARE_TAG = 'hangar';

export interface MountHelp {
  linux: string;
  /** Over virtio-9p: no network needed, for kernels with 9p (Debian's generic one, not its cloud one). */
  linux9p: string;
  windows: string;
  /** Windows 10 and 11 refuse guest logons to SMB shares unless allowed. */
  windowsNote: string;
}

export function mountHelp(): MountHelp {
  return {
    // username=guest with an empty password is what the kernel needs without cifs-utils' helper.
    linux:
      `sudo mkdir -p /mnt/host && sudo mount -t cifs //${SHARE_HOST}/${SHARE_NAME} /mnt/host ` +
      '-o username=guest,password=,uid=$(id -u),gid=$(id -g)',
    linux9p:
      `sudo mkdir -p /mnt/host && sudo mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 ` +
      `${SHARE_TAG} /mnt/host`,
    windows: `\\\\${SHARE_HOST}\\${SHARE_NAME}`,
    windowsNote:
      'Windows 10 and 11 refuse guest access to SMB shares by default: allow it with the group policy ' +
      '"Enable insecure guest logons" (Network > Lanman Workstation), and on 11 24H2 turn off ' +
      '"Digitally sign communications (always)" for the client.',
  };
}
