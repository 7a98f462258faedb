// The names Hangar gives files and folders inside $HANGAR_HOME, in one place (like Lima's
// filenames package): recovery reads what operations write, so both must agree, and neither
// should import the other to learn a name.

/** A VM folder being deleted holds this marker (with the files to keep) until it is gone. */
export const DELETE_MARKER = '.deleting';
/** A VM being assembled lives in `vms/.partial-<id>` until it is published whole. */
export const STAGING_PREFIX = '.partial-';
/** A staged linked clone names its template in this file (so recovery knows what it leaned on). */
export const LINKED_TO_FILE = '.linked-to';
/** The per-VM copy of the UEFI variable store. */
export const VARS_FILE = 'uefi-vars.qcow2';
/** A disk's frozen baseline, beside it: disk0.qcow2 -> disk0.base.qcow2. */
export const baseName = (file: string): string => file.replace(/\.qcow2$/, '') + '.base.qcow2';
/** A new image prepared beside the one it replaces, renamed over it when all are ready. */
export const pendingName = (path: string): string => `${path}.new`;
/** A VM's history: one JSON line per state change or operation (engine/journal). */
export const JOURNAL_FILE = 'events.jsonl';
/** The libvirt hosts the user added, in $HANGAR_HOME. */
export const HOSTS_FILE = 'hosts.json';

/** The VM's screen as last captured while it ran: what its card shows once it is off. */
export const LAST_FRAME_FILE = 'last-frame.png';
