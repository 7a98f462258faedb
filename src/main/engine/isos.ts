// Install media the wizard can offer: ISOs that VMs here already use, and those in ~/Downloads.
import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EngineContext } from './context';

export function findIsos(
  engine: EngineContext,
  downloadsDir = join(engine.env.HOME ?? homedir(), 'Downloads'),
) {
  const recent = new Set<string>();
  for (const e of engine.store.list()) {
    if (e.ok) for (const c of e.config.cdroms) if (c.media) recent.add(c.media);
  }
  let downloads: { path: string; mtime: number }[] = [];
  try {
    downloads = readdirSync(downloadsDir)
      .filter((f) => f.toLowerCase().endsWith('.iso'))
      .map((f) => join(downloadsDir, f))
      .flatMap((path) => {
        const st = statSync(path, { throwIfNoEntry: false });
        return st?.isFile() ? [{ path, mtime: st.mtimeMs }] : [];
      })
      .sort((a, b) => b.mtime - a.mtime);
  } catch {
    // No Downloads folder: nothing to offer from there.
  }
  return {
    recent: [...recent].filter((p) => statSync(p, { throwIfNoEntry: false })?.isFile()),
    downloads: downloads.map((d) => d.path),
  };
}
