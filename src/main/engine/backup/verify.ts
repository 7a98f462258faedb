// Verify a backup point. quick: every file of the point and of the points under it against the
// manifests' sizes and SHA-256, naming each damaged file. full: also `qemu-img check` on every
// image and the chain's links (each qcow2's backing file is the one its manifest names).
import { statSync } from 'node:fs';
import { chainImage, explainKey, withKeyArgs } from './crypto';
import { keyFor, pointConfig } from './read-point';
import { compareWithSource } from './verify-source';
import { join } from 'node:path';
import type {
  BackupVerifyProblem as VerifyProblem,
  BackupVerifyResult as VerifyResult,
} from '../../../shared/backup';
import type { EngineContext } from '../context';
import { hashFile } from './manifest';
import { chainOf, findBackup, repositoryPath, type ListedBackup } from './repository';

export type { VerifyProblem, VerifyResult };

export interface VerifyOptions {
  repository?: string | null;
  mode?: 'quick' | 'full';
  /** Only this VM's folder is searched for the backup id. */
  vmId?: string | null;
  /** The secret of an encrypted chain: full mode opens its images to check them. */
  key?: Buffer | null;
}

export async function hashProblems(b: ListedBackup): Promise<VerifyProblem[]> {
  const out: VerifyProblem[] = [];
  for (const f of b.manifest.files) {
    const path = join(b.dir, f.name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) {
      out.push({ backup: b.manifest.id, file: path, problem: 'missing' });
      continue;
    }
    if (st.size !== f.size) {
      out.push({
        backup: b.manifest.id,
        file: path,
        problem: `size ${st.size}, the manifest says ${f.size}`,
      });
      continue;
    }
    const h = await hashFile(path);
    if (h.sha256 !== f.sha256)
      out.push({
        backup: b.manifest.id,
        file: path,
        problem: 'SHA-256 differs from the manifest (the file is corrupted)',
      });
  }
  return out;
}

interface HeaderInfo {
  format: string;
  'backing-filename'?: string;
  'backing-filename-format'?: string;
  'format-specific'?: { data?: { 'data-file'?: string } };
}

/**
 * Each image's header names exactly what its manifest says: qcow2, the parent point's file as
 * its backing (by the relative name Hangar writes, format pinned), and no external data file.
 * qemu-img follows headers when it flattens a chain, so a repository someone else wrote could
 * otherwise pull any file of this host into a restored disk.
 */
/**
 * What is wrong with a chain's files before anything is read from them: every hash first, then
 * (only once the bytes are the ones written) every image header, which must name only its own
 * chain. Restore and import call this before qemu-img follows those headers' backing names.
 */
export async function chainProblems(engine: EngineContext, chain: ListedBackup[]): Promise<VerifyProblem[]> {
  const hashes = (await Promise.all(chain.map(hashProblems))).flat();
  if (hashes.length) return hashes;
  const headers: VerifyProblem[] = [];
  for (const b of chain) headers.push(...(await headerProblems(engine, b)));
  return headers;
}

export async function headerProblems(engine: EngineContext, b: ListedBackup): Promise<VerifyProblem[]> {
  const out: VerifyProblem[] = [];
  const m = b.manifest;
  const images = [
    ...m.disks.map((d) => ({
      file: d.file,
      backing: d.backing,
      expected: m.parent ? `../${m.parent}/${d.file}` : null,
    })),
    ...(m.varsFile ? [{ file: m.varsFile, backing: null, expected: null }] : []),
  ];
  for (const img of images) {
    const path = join(b.dir, img.file);
    const problem = (text: string) => out.push({ backup: m.id, file: path, problem: text });
    try {
      const info = (await engine.img.info(path, 'qcow2')) as HeaderInfo;
      const backing = info['backing-filename'] ?? null;
      if (img.backing !== img.expected)
        problem(
          `the manifest names ${img.backing ?? 'no'} backing file instead of ${img.expected ?? 'none'}`,
        );
      else if (backing !== img.expected)
        problem(`backing file ${backing ?? 'none'}, the manifest says ${img.expected ?? 'none'}`);
      else if (backing && info['backing-filename-format'] !== 'qcow2')
        problem('its backing file has no pinned qcow2 format');
      else if (info['format-specific']?.data?.['data-file'] !== undefined)
        problem('it names an external data file, which Hangar never writes');
    } catch (err) {
      problem((err as Error).message);
    }
  }
  return out;
}

async function checkProblems(
  engine: EngineContext,
  b: ListedBackup,
  key: Buffer | null,
): Promise<VerifyProblem[]> {
  const out: VerifyProblem[] = [];
  const files = [
    ...b.manifest.disks.map((d) => d.file),
    ...(b.manifest.varsFile ? [b.manifest.varsFile] : []),
  ];
  for (const file of files) {
    const path = join(b.dir, file);
    try {
      // An encrypted image is opened with its key, alone (its chain is checked point by point).
      const check = key
        ? await withKeyArgs(engine, key, (args) =>
            engine.img.check(path, 'qcow2', { args, image: chainImage([path], true) }),
          ).catch((err: unknown) => {
            throw explainKey(err, `backup ${b.manifest.id}`);
          })
        : await engine.img.check(path, 'qcow2');
      const bad = (check.corruptions ?? 0) + (check['check-errors'] ?? 0);
      if (bad) out.push({ backup: b.manifest.id, file: path, problem: `qemu-img check found ${bad} errors` });
    } catch (err) {
      out.push({ backup: b.manifest.id, file: path, problem: (err as Error).message });
    }
  }
  return out;
}

export async function verifyBackup(
  engine: EngineContext,
  backupId: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const repo = repositoryPath(engine, options.repository);
  const mode = options.mode ?? 'quick';
  const leaf = findBackup(repo, backupId, options.vmId ?? null);
  const problems: VerifyProblem[] = [];
  let chain: ListedBackup[] = [leaf];
  try {
    chain = chainOf(repo, leaf);
  } catch (err) {
    problems.push({ backup: leaf.manifest.id, file: leaf.dir, problem: (err as Error).message });
  }
  for (const b of chain) problems.push(...(await hashProblems(b)));
  // qemu-img reads the images' headers only once their bytes are known to be the ones written.
  if (mode === 'full' && !problems.length)
    for (const b of chain) problems.push(...(await headerProblems(engine, b)));
  if (mode === 'full' && !problems.length)
    for (const b of chain) {
      // The sealed vm.json opens only with the right key: a clear error before qemu-img's.
      const key = keyFor(b, options.key ?? null);
      if (key) pointConfig(b, key);
      problems.push(...(await checkProblems(engine, b, key)));
    }
  let source: string | null = null;
  if (mode === 'full' && !problems.length) {
    const c = await compareWithSource(engine, repo, [...chain].reverse(), keyFor(leaf, options.key ?? null));
    problems.push(...c.problems);
    source = c.note;
  }
  return {
    backup: leaf.manifest.id,
    mode,
    ok: problems.length === 0,
    chain: chain.map((b) => b.manifest.id),
    problems,
    source,
  };
}
