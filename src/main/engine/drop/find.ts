// A file dropped on the browser UI: the browser hands the page its name, size and modification
// time but never its path. An ISO or an OVA usually sits where the wizard already looks (the ISOs
// VMs use, ~/Downloads), so the engine looks there for a regular file with that very name, size
// and time; otherwise the page uploads a copy. Nothing here grants more than host.isos already
// does: only install media and OVAs (read-only uses), only those places, and never a disk image,
// whose grant would let a VM write it (a page could guess a size and a time).
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { dropKind } from '../../../shared/drop';
import type { EngineContext } from '../context';

export interface DroppedFile {
  /** A plain file name (the API's schema refuses paths). */
  name: string;
  size: number;
  /** File.lastModified: milliseconds, which is the file's mtime. */
  modifiedMs: number;
}

export function findDropped(engine: EngineContext, file: DroppedFile): string | null {
  const kind = dropKind(file.name);
  if (kind === 'disk' || kind === null || basename(file.name) !== file.name) return null;
  const candidates = [join(engine.env.HOME ?? homedir(), 'Downloads', file.name)];
  if (kind === 'iso')
    for (const e of engine.store.list())
      if (e.ok)
        for (const c of e.config.cdroms)
          if (c.media && basename(c.media) === file.name) candidates.push(c.media);
  for (const path of candidates) {
    let st;
    try {
      st = statSync(path, { throwIfNoEntry: false });
    } catch {
      continue; // unreadable or not a folder on the way: as good as absent, and said the same way
    }
    // Browsers round lastModified to the millisecond; filesystems keep more. A second apart is
    // another file (or one changed since), which must not be taken for it.
    if (st?.isFile() && st.size === file.size && Math.abs(st.mtimeMs - file.modifiedMs) < 1000) return path;
  }
  return null;
}
