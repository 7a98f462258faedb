// What the file picker lists: the folders and files of one directory that the host-path policy
// would accept. Every entry is judged by its real path (symlinks resolved), so a link into
// Hangar's own data is neither shown nor followed, and only regular files are offered.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PickPurpose } from '../../shared/requests';

/** Entries read per directory; a folder with more says how many it left out. */
export const MAX_ENTRIES = 5000;

/** Names that look like what each purpose wants; "all files" lifts the filter. */
const MATCH: Readonly<Record<PickPurpose, RegExp>> = {
  iso: /\.iso$/i,
  disk: /\.(qcow2|img|raw)$/i,
  kernel: /^(vmlinuz|vmlinux|bzimage|kernel)|\.(efi|kernel)$/i,
  initrd: /^(initrd|initramfs)|\.(cpio|cpio\.gz|img)$/i,
  file: /(?:)/,
  // A folder is chosen by opening it; its files are not offered.
  folder: /(?!)/,
};

export const PURPOSE_FILTER_LABEL: Readonly<Record<PickPurpose, string>> = {
  iso: '.iso files',
  disk: 'disk images (.qcow2, .img, .raw)',
  kernel: 'kernels (vmlinuz*, bzImage, *.efi)',
  initrd: 'initrds (initrd*, initramfs*, .img, .cpio)',
  file: 'files',
  folder: 'folders',
};

export function matchesPurpose(name: string, purpose: PickPurpose): boolean {
  return MATCH[purpose].test(name);
}

export interface ListOptions {
  purpose: PickPurpose;
  allFiles: boolean;
  showHidden: boolean;
  isProtected: (realPath: string) => boolean;
}

export interface Entry {
  name: string;
  /** The path inside the listed folder (not resolved), which is what the user sees and picks. */
  path: string;
}

export interface Listing {
  /** The folder's real path. */
  dir: string;
  parent: string | null;
  dirs: Entry[];
  files: (Entry & { size: number })[];
  /** Files left out by the purpose filter, hidden names, or the entry limit. */
  filtered: number;
  hidden: number;
  truncated: number;
}

export type Located = { ok: true; dir: string; select: string | null } | { ok: false; message: string };

/**
 * Where a typed location leads: a folder, or a file (its folder, with the file selected). The
 * real path decides; Hangar's own data is refused like everything else the policy refuses.
 */
export function locate(given: string, isProtected: (real: string) => boolean): Located {
  if (!given.startsWith('/') || given.includes('\0'))
    return { ok: false, message: 'Type a full path, starting with /.' };
  let real: string;
  try {
    real = realpathSync(given);
  } catch {
    return { ok: false, message: `${given} does not exist.` };
  }
  if (isProtected(real))
    return { ok: false, message: `${given} is inside Hangar's own data, which no VM may use.` };
  let st;
  try {
    st = statSync(real);
  } catch {
    return { ok: false, message: `${given} cannot be read.` };
  }
  if (st.isDirectory()) return { ok: true, dir: real, select: null };
  if (st.isFile()) return { ok: true, dir: dirname(real), select: real };
  return { ok: false, message: `${given} is not a folder or a regular file.` };
}

/** The folder's contents the policy would accept, folders first, each group sorted by name. */
export function listDir(dir: string, opts: ListOptions): Listing {
  const listing: Listing = {
    dir,
    parent: dir === '/' ? null : dirname(dir),
    dirs: [],
    files: [],
    filtered: 0,
    hidden: 0,
    truncated: 0,
  };
  const names = readdirSync(dir).sort((a, b) => a.localeCompare(b));
  if (names.length > MAX_ENTRIES) listing.truncated = names.length - MAX_ENTRIES;
  for (const name of names.slice(0, MAX_ENTRIES)) {
    if (name.startsWith('.') && !opts.showHidden) {
      listing.hidden++;
      continue;
    }
    const path = join(dir, name);
    let real: string;
    let st;
    try {
      real = realpathSync(path);
      st = statSync(real);
    } catch {
      continue; // a dangling link or an entry that vanished: nothing to pick
    }
    if (opts.isProtected(real)) continue;
    if (st.isDirectory()) listing.dirs.push({ name, path });
    else if (st.isFile()) {
      if (opts.allFiles || matchesPurpose(name, opts.purpose))
        listing.files.push({ name, path, size: st.size });
      else listing.filtered++;
    }
  }
  return listing;
}
