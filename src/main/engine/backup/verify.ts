// Verify a backup point. quick: every file of the point and of the points under it against the
// manifests' sizes and SHA-256, naming each damaged file. full: also `qemu-img check` on every
// image and the chain's links (each qcow2's backing file is the one its manifest names).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineContext } from '../context';
import { hashFile } from './manifest';
import { chainOf, findBackup, repositoryPath, type ListedBackup } from './repository';

export interface VerifyOptions {
  repository?: string | null;
  mode?: 'quick' | 'full';
  /** Only this VM's folder is searched for the backup id. */
  vmId?: string | null;
}

export interface VerifyProblem {
  backup: string;
  /** The damaged file's path, or the backup folder when the problem is not one file's. */
  file: string;
  problem: string;
}

export interface VerifyResult {
  backup: string;
  mode: 'quick' | 'full';
  ok: boolean;
  /** The points checked, full first. */
  chain: string[];
  problems: VerifyProblem[];
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

async function imageProblems(engine: EngineContext, b: ListedBackup): Promise<VerifyProblem[]> {
  const out: VerifyProblem[] = [];
  const images = [
    ...b.manifest.disks.map((d) => ({ file: d.file, backing: d.backing })),
    ...(b.manifest.varsFile ? [{ file: b.manifest.varsFile, backing: null }] : []),
  ];
  for (const img of images) {
    const path = join(b.dir, img.file);
    try {
      const info = await engine.img.info(path, 'qcow2');
      const backing = info['backing-filename'] ?? null;
      if (backing !== img.backing) {
        out.push({
          backup: b.manifest.id,
          file: path,
          problem: `backing file ${backing ?? 'none'}, the manifest says ${img.backing ?? 'none'}`,
        });
        continue;
      }
      if (backing && info['backing-filename-format'] !== 'qcow2')
        out.push({
          backup: b.manifest.id,
          file: path,
          problem: 'its backing file has no pinned qcow2 format',
        });
      const check = await engine.img.check(path, 'qcow2');
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
    for (const b of chain) problems.push(...(await imageProblems(engine, b)));
  return {
    backup: leaf.manifest.id,
    mode,
    ok: problems.length === 0,
    chain: chain.map((b) => b.manifest.id),
    problems,
  };
}
