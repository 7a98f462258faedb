// What an engine does at open about the leftovers of an engine that was killed mid-operation.
// It runs under the engine lock, so no other engine is at work and anything half-made is an
// earlier one's. The rule: remove only what is provably a partial copy whose original is intact,
// finish what the user had already asked to destroy, and leave everything else to be reported.
//
//   vms/.partial-<id>/          a create or clone that never published: new files and copies only
//                               -> removed
//   vms/<id>/.deleting          a delete that was under way -> finished, keeping the files it names
//   vms/<id>/.NAME.xxxxxxxx.tmp a metadata write (writeFileAtomic) that never renamed; the target
//                               holds the old content -> removed
//   vms/<id>/*.new, *.flat,     an image being rewritten beside the original (reset to baseline,
//   *.converting                flatten, convert) that never replaced it -> removed, unless vm.json
//                               refers to the file
//   vms/<id>/ (empty)           the last step of a delete -> removed
//   vms/<id>/disposable/        a disposable run's overlays -> removed by adoption when no QEMU runs
//   engine.lock.PID.tmp         a lock attempt of a process that is gone -> removed
//   vms/<id>/*.base.qcow2 that vm.json does not name: an interrupted `baseline set` -> undone
//                               (still a link to the image) or finished (the overlay is in place)
// A VM directory without vm.json that is not empty is left alone: the store reports it.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { VmId } from '../../shared/vm';
import type { ConfigEntry, ConfigStore } from './config/store';
import { diskPath } from './qemu/argv';
import { DELETE_MARKER, STAGING_PREFIX } from './config/filenames';
import { isAlive } from './supervisor/proc';
import { recoverBaseline } from './rollback/recover-baseline';

/** writeFileAtomic's temp name: `.${basename}.${8 hex}.tmp`. */
const ATOMIC_TMP = /^\..+\.[0-9a-f]{8}\.tmp$/;
const IMAGE_TMP = /\.(new|flat|converting)$/;

/** A name in a VM folder that recovery must look at with the VM's config in hand. */
function needsLook(name: string): boolean {
  return (
    name === DELETE_MARKER || ATOMIC_TMP.test(name) || IMAGE_TMP.test(name) || name.endsWith('.base.qcow2')
  );
}

function remove(path: string): void {
  // Retried: a qemu-img orphaned by the killed engine may still be writing into a staging dir.
  rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/** Files vm.json refers to (only those the VM does not own, with `external`). */
function referenced(entry: ConfigEntry, vmDir: string, external = false): Set<string> {
  if (!entry.ok) return new Set();
  const c = entry.config;
  return new Set([
    ...c.disks.filter((d) => !external || !d.owned).map((d) => diskPath(c, d, vmDir)),
    ...c.cdroms.flatMap((cd) => (cd.media ? [cd.media] : [])),
  ]);
}

function finishDelete(vmDir: string, refs: Set<string>): void {
  let keep: string[] = [];
  try {
    keep = (JSON.parse(readFileSync(join(vmDir, DELETE_MARKER), 'utf8')) as { keep?: string[] }).keep ?? [];
  } catch {
    // The marker is written atomically; an unreadable one keeps nothing but vm.json's references.
  }
  const kept = new Set([...keep, ...refs]);
  for (const name of readdirSync(vmDir)) {
    if (name === 'vm.json' || name === DELETE_MARKER || kept.has(join(vmDir, name))) continue;
    remove(join(vmDir, name));
  }
  rmSync(join(vmDir, 'vm.json'), { force: true });
  rmSync(join(vmDir, DELETE_MARKER), { force: true });
  if (readdirSync(vmDir).length === 0) remove(vmDir);
}

/** Cleans up after a killed engine; returns one line per thing it did, for the log. */
export function recoverHome(store: ConfigStore): string[] {
  const notes: string[] = [];
  const note = (what: string, path: string, why: string) => notes.push(`${what} ${path}: ${why}`);
  const dirents = existsSync(store.vmsDir) ? readdirSync(store.vmsDir, { withFileTypes: true }) : [];
  for (const d of dirents) {
    const name = d.name;
    const path = join(store.vmsDir, name);
    try {
      if (name.startsWith(STAGING_PREFIX)) {
        remove(path);
        note('removed', path, 'a VM whose creation or cloning was interrupted');
        continue;
      }
      if (!d.isDirectory() || !VmId.safeParse(name).success) continue;
      // The folder's names say whether anything was left half-done; only then is vm.json read
      // (with a thousand VMs, a parse of each at every start shows).
      const names = readdirSync(path);
      if (names.length === 0) {
        remove(path);
        note('removed', path, 'an empty VM directory left by a delete');
        continue;
      }
      if (!names.some(needsLook)) continue;
      const entry = store.read(name);
      if (existsSync(join(path, DELETE_MARKER))) {
        finishDelete(path, referenced(entry, path, true));
        note('deleted', path, 'finished an interrupted delete');
        continue;
      }
      const refs = referenced(entry, path);
      for (const f of readdirSync(path)) {
        const file = join(path, f);
        if (ATOMIC_TMP.test(f) || (IMAGE_TMP.test(f) && !refs.has(file))) {
          remove(file);
          note('removed', file, 'an interrupted write; the file it was to replace is intact');
        }
      }
      if (entry.ok) notes.push(...recoverBaseline(store, entry.config, path));
      if (readdirSync(path).length === 0) {
        remove(path);
        note('removed', path, 'an empty VM directory left by a delete');
      }
    } catch (err) {
      notes.push(`could not clean up ${path}: ${(err as Error).message}`);
    }
  }
  for (const f of existsSync(store.home) ? readdirSync(store.home) : []) {
    const m = /^engine\.lock\.(\d+)\.tmp$/.exec(f);
    if (m && !isAlive(Number(m[1]))) {
      rmSync(join(store.home, f), { force: true });
      note('removed', join(store.home, f), 'a lock attempt of a process that is gone');
    }
  }
  return notes;
}
