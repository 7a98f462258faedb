// Files dropped on the window: which kinds Hangar takes, what each becomes, and the names an upload
// may be saved under. Shared by the renderer (what to do with a drop) and the host server (what it
// accepts to save).
import type { PickPurpose } from './requests';

/** iso: install media for the wizard; disk: an existing disk for the wizard; ova: imported as a VM. */
export type DropKind = 'iso' | 'disk' | 'ova';

const BY_EXTENSION: Record<string, DropKind> = {
  iso: 'iso',
  qcow2: 'disk',
  img: 'disk',
  raw: 'disk',
  ova: 'ova',
};

/** The grant a dropped file needs, by kind (an OVA is read as a plain file, then imported). */
export const DROP_PURPOSE: Record<DropKind, PickPurpose> = { iso: 'iso', disk: 'disk', ova: 'file' };

export function dropKind(name: string): DropKind | null {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? (BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? null) : null;
}

/** What to tell the user about a file Hangar does not take by dropping. */
export function dropRefusal(name: string): string {
  if (/\.(vmdk|vdi|vhdx?|qed)$/i.test(name))
    return `${name} needs converting first: add it on the Library page, which converts it to qcow2.`;
  return `${name} is not an ISO (.iso), a disk image (.qcow2, .img, .raw) or an OVA (.ova).`;
}

/**
 * A name an uploaded file may be saved under, or why not: one plain file name (no folder, no
 * hidden file, no control characters), at most 200 bytes, of a kind Hangar takes.
 */
export function uploadNameProblem(name: string): string | null {
  // eslint-disable-next-line no-control-regex -- control characters are what is being refused
  if (!name || name.includes('/') || name.startsWith('.') || /[\u0000-\u001f\u007f]/.test(name))
    return 'The file name must be a plain name, not a path or a hidden file.';
  if (new TextEncoder().encode(name).length > 200)
    return 'The file name is longer than 200 bytes: rename it first.';
  if (!dropKind(name)) return dropRefusal(name);
  return null;
}
