// verify --full's last step: the point, read through its chain, compared with the VM itself where
// the VM still holds that point in time. That is so when the VM is stopped, the point is the
// newest of its chain, and the chain's dirty bitmap says no cluster was written since (the bitmap
// is read in a guest-less QEMU, as a stopped VM's backup reads it). Otherwise it says why not.
import { join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { diskPath } from '../qemu/argv';
import { bitmapName } from './chain';
import { chainImage, withKeyArgs } from './crypto';
import { withDiskQemu } from './disk-qemu';
import { queryBitmaps } from './live';
import { listBackups, type ListedBackup } from './repository';
import type { BackupVerifyProblem as VerifyProblem } from '../../../shared/backup';

export interface SourceComparison {
  problems: VerifyProblem[];
  /** What was compared, or why nothing could be. */
  note: string;
}

/** Disks written since the point, by the chain's bitmap; a missing or distrusted one counts. */
async function writtenSince(engine: EngineContext, vm: VmConfig, leaf: ListedBackup): Promise<string[]> {
  const name = bitmapName(leaf.manifest.chainId);
  const bitmaps = await withDiskQemu(engine, vm, false, (qmp) => queryBitmaps(qmp));
  return leaf.manifest.disks
    .filter((d) => {
      const b = (bitmaps.get(d.id) ?? []).find((x) => x.name === name);
      return !b || b.inconsistent || b.count !== 0;
    })
    .map((d) => d.id);
}

/** qemu-img compare: true when the two read the same (exit 0), false when they differ (exit 1). */
async function same(
  engine: EngineContext,
  source: string,
  chain: ListedBackup[],
  file: string,
  key: Buffer | null,
) {
  const point = chainImage(
    chain.map((b) => join(b.dir, file)),
    key !== null,
  );
  const src = `json:${JSON.stringify({ driver: 'qcow2', file: { driver: 'file', filename: source } })}`;
  const run = (secret: string[]) =>
    engine.img.run(['compare', '-q', ...secret, src, point], 6 * 3600_000).then(
      () => true,
      (err: unknown) => {
        if (err instanceof HangarError && /exit 1\)/.test(err.message)) return false;
        throw err;
      },
    );
  return key ? withKeyArgs(engine, key, run) : run([]);
}

export async function compareWithSource(
  engine: EngineContext,
  repo: string,
  chain: ListedBackup[],
  key: Buffer | null,
): Promise<SourceComparison> {
  const leaf = chain[0]!;
  const m = leaf.manifest;
  const none = (why: string): SourceComparison => ({
    problems: [],
    note: `not compared with the VM: ${why}`,
  });
  let vm: VmConfig;
  try {
    vm = engine.resolve(m.vm.id);
  } catch {
    return none('it is gone');
  }
  if (listBackups(repo, vm.id).backups.at(-1)?.manifest.id !== m.id)
    return none('newer backups of it exist, so it has moved on');
  try {
    return await engine.withVm(vm.id, 'verify', async (config) => {
      if (!engine.isStopped(config.id)) return none('it runs, so its disks move on');
      const written = await writtenSince(engine, config, leaf);
      if (written.length)
        return none(`${written.join(', ')} changed since the backup (or its bitmap is gone)`);
      const { vmDir } = engine.paths(config.id);
      const problems: VerifyProblem[] = [];
      for (const d of m.disks) {
        const disk = config.disks.find((x) => x.id === d.id)!;
        const source = diskPath(config, disk, vmDir);
        if (!(await same(engine, source, chain, d.file, key)))
          problems.push({
            backup: m.id,
            file: join(leaf.dir, d.file),
            problem: `reads differently from ${d.id} of "${config.name}", which has not been written since this backup`,
          });
      }
      return {
        problems,
        note: `compared with the disks of "${config.name}", unchanged since: ${problems.length ? 'they differ' : 'identical'}`,
      };
    });
  } catch (err) {
    if (err instanceof HangarError && err.code === 'BUSY') return none('it is busy with another operation');
    throw err;
  }
}
