// A file dropped on the browser UI: the browser hands the page its name, size and modification
// time but never its path. Most such files sit where the wizard already looks (the ISOs VMs use,
// ~/Downloads) or on the desktop or in the home folder, so the engine looks there for a regular
// file with that very name, size and time; only when none matches does the page upload a copy.
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EngineContext } from '../context';

export interface DroppedFile {
  name: string;
  size: number;
  /** File.lastModified: milliseconds, which is the file's mtime. */
  modifiedMs: number;
}

/** Folders searched, in order: the user's usual places for downloaded media. */
export function dropFolders(engine: EngineContext): string[] {
  const home = engine.env.HOME ?? homedir();
  return [join(home, 'Downloads'), join(home, 'Desktop'), home];
}

export function findDropped(engine: EngineContext, file: DroppedFile): string | null {
  const used = new Set<string>();
  for (const e of engine.store.list())
    if (e.ok) {
      for (const c of e.config.cdroms) if (c.media) used.add(c.media);
      for (const d of e.config.disks) if (!d.owned) used.add(d.path);
    }
  const candidates = [
    ...[...used].filter((p) => p.slice(p.lastIndexOf('/') + 1) === file.name),
    ...dropFolders(engine).map((dir) => join(dir, file.name)),
  ];
  for (const path of candidates) {
    const st = statSync(path, { throwIfNoEntry: false });
    // Browsers round lastModified to the millisecond; filesystems keep more. A second apart is
    // another file (or one changed since), which must not be taken for it.
    if (st?.isFile() && st.size === file.size && Math.abs(st.mtimeMs - file.modifiedMs) < 1000) return path;
  }
  return null;
}
