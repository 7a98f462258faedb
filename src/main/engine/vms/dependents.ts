// Which other VMs need a file: as a backing file (a linked clone, an overlay made by hand), as a
// disk attached in place, as a confirmed link of an external image's chain. Paths are compared
// by their real path, so an overlay that spells its base differently (a symlink, `./`, `//`)
// still protects it.
import { realpathSync } from 'node:fs';
import { stampOf } from '../config/store';
import { dirname, resolve } from 'node:path';
import { diskPath } from '../qemu/argv';
import { qcow2Backing } from '../storage/qcow2-header';
import type { EngineContext } from '../context';

export function realOr(path: string): string {
  try {
    // The kernel's realpath: one call, where Node's own walks every component with lstat (delete
    // asks this of every file of every other VM).
    return realpathSync.native(path);
  } catch {
    return resolve(path);
  }
}

// Backing file names by image path, with the stamp of the image they were read from: a delete
// beside 100 clones then costs a stat per clone disk, not an open and two reads.
const backingOf = new Map<string, { stamp: string; backing: string | null }>();

/** The qcow2 header's backing file name (null: none), or undefined when the file is missing. */
function backingName(path: string): string | null | undefined {
  const stamp = stampOf(path);
  if (stamp === null) return undefined;
  const known = backingOf.get(path);
  if (known?.stamp === stamp) return known.backing;
  const backing = qcow2Backing(path);
  if (backingOf.size >= 10_000) backingOf.clear();
  backingOf.set(path, { stamp, backing });
  return backing;
}

/**
 * The other VMs' files that use one of `files`, as "VM name (its file)" (or the name alone, with
 * `namesOnly`). With `inPlace`, a disk
 * that is the file itself counts too (deleting a VM keeps such files instead, see deleteVm).
 */
export async function dependents(
  engine: EngineContext,
  self: string,
  files: Iterable<string>,
  options: { inPlace?: boolean; namesOnly?: boolean } = {},
): Promise<string[]> {
  const wanted = new Set([...files].map(realOr));
  const label = (name: string, path: string) => (options.namesOnly ? name : `${name} (${path})`);
  const users: string[] = [];
  for (const entry of engine.store.list()) {
    if (!entry.ok || entry.id === self) continue;
    const c = entry.config;
    for (const d of c.disks) {
      const path = diskPath(c, d, engine.paths(entry.id).vmDir);
      const inPlace = options.inPlace === true && !d.owned && wanted.has(realOr(d.path));
      if (inPlace || (!d.owned && d.backingChain.some((l) => wanted.has(realOr(l.path))))) {
        users.push(label(c.name, path));
        continue;
      }
      if (d.format !== 'qcow2') continue;
      // The header's own field, not a qemu-img process per disk: with 100 clones that was 20 s.
      let backing: string | null | undefined;
      try {
        backing = backingName(path);
      } catch {
        continue; // unreadable now (being replaced): it names nothing we could protect
      }
      if (backing && wanted.has(realOr(resolve(dirname(path), backing)))) users.push(label(c.name, path));
    }
  }
  return users;
}
