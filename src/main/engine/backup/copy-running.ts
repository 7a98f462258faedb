// The copy of a VM's disks through QMP (a running VM's QEMU, or disk-qemu.ts's for a stopped one): one qcow2 target per disk made in the staging folder (zstd;
// an incremental's backing file is the previous point, by a relative name, format pinned), then
// the copy itself in one QMP transaction with the guest's filesystems frozen around it (live.ts).
import { join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import { agentPortOpen, withFrozenGuest, type FrozenResult } from '../agent';
import type { EngineContext } from '../context';
import type { QmpClient } from '../qmp';
import { nextBitmapName, type BitmapInfo } from './chain';
import { liveCopy, removeBitmaps, type LiveTarget } from './live';
import { VARS_BACKUP, type Consistency } from './manifest';
import { explainKey, LUKS_CREATE, retryLuksTiming, withKeyArgs, withQmpSecret } from './crypto';
import { rmSync } from 'node:fs';
import type { ListedBackup } from './repository';

export interface SourceDisk {
  id: string;
  path: string;
  virtualSize: number;
  /** Files under an external disk, nearest first (offline copies cannot pin them yet). */
  externalChain: number;
}

export interface LivePlan {
  dir: string;
  disks: SourceDisk[];
  files: string[];
  kind: 'full' | 'incremental';
  chainId: string;
  /** The chain's points under this one, nearest first. */
  ancestors: ListedBackup[];
  /** The UEFI variable store's size, or null when it is not backed up. */
  varsSize: number | null;
  /** The disks' bitmaps as found (a fresh one left by a failed attempt is removed first). */
  stale: Map<string, BitmapInfo[]>;
  progress: (percent: number) => void;
  /** The QEMU holding the disks: the VM's own, or one with no guest for a stopped VM (disk-qemu.ts). */
  qmp: QmpClient;
  /** Whether a guest runs whose filesystems the agent may freeze. */
  guestRuns: boolean;
  /** Encrypts the targets (LUKS; the chain under them is encrypted too). */
  key: Buffer | null;
}

/** The live copy: targets made in the staging folder, then one transaction (live.ts). */
export async function copyRunning(
  engine: EngineContext,
  config: VmConfig,
  plan: LivePlan,
): Promise<{ consistency: Consistency; warning?: string }> {
  const qmp = plan.qmp;
  const { dir, files, parentId } = { ...plan, parentId: plan.ancestors[0]?.manifest.id ?? null };
  for (const [n, d] of plan.disks.entries()) {
    const backing = parentId ? `../${parentId}/${files[n]}` : null;
    await createTarget(engine, join(dir, files[n]!), d.virtualSize, backing, plan.key);
  }
  if (plan.varsSize !== null)
    await createTarget(engine, join(dir, VARS_BACKUP), plan.varsSize, null, plan.key);
  // A fresh bitmap left by an earlier failed attempt in this QEMU would clash by name.
  const fresh = nextBitmapName(plan.chainId);
  for (const d of plan.disks)
    if ((plan.stale.get(d.id) ?? []).some((b) => b.name === fresh)) await removeBitmaps(qmp, d.id, [fresh]);
  const targets: LiveTarget[] = plan.disks.map((d, n) => ({
    node: d.id,
    path: join(dir, files[n]!),
    backing: plan.ancestors.map((a) => join(a.dir, files[n]!)),
    bitmap: true,
  }));
  if (plan.varsSize !== null)
    targets.push({ node: 'fw-vars', path: join(dir, VARS_BACKUP), backing: [], bitmap: false });
  const point: { frozen?: FrozenResult<void> } = {};
  const agent = plan.guestRuns && (await agentPortOpen(qmp));
  const copy = () =>
    liveCopy(qmp, {
      mode: plan.kind,
      encrypted: plan.key !== null,
      // QEMU cannot write compressed clusters into an encrypted qcow2.
      compress: plan.key === null,
      chainId: plan.chainId,
      targets,
      atPointInTime: async (start) => {
        if (agent) point.frozen = await withFrozenGuest(engine.agent(config.id), start);
        else await start();
      },
      onProgress: plan.progress,
      whileRunning: () => engine.failpoint('backup:copy'),
    });
  try {
    await (plan.key ? withQmpSecret(qmp, plan.key, copy) : copy());
  } catch (err) {
    throw explainKey(err, `the earlier points of this chain (${plan.ancestors[0]?.manifest.id ?? 'none'})`);
  }
  const f = point.frozen;
  return {
    consistency: !plan.guestRuns || f?.consistency === 'frozen' ? 'frozen' : 'crash-consistent',
    ...(f?.thawFailed !== undefined
      ? {
          warning: `The guest agent did not confirm that it thawed the guest's filesystems (${f.thawFailed}); writes in the guest may hang.`,
        }
      : {}),
  };
}

async function createTarget(
  engine: EngineContext,
  path: string,
  size: number,
  backing: string | null,
  key: Buffer | null,
): Promise<void> {
  const args = ['create', '-q', '-f', 'qcow2', '-o', key ? LUKS_CREATE : 'compression_type=zstd'];
  // Relative, so the chain survives the repository being moved or mounted elsewhere; -F so the
  // format of a backing file is never probed. The size is given, so the backing is not opened.
  if (backing) args.push('-b', backing, '-F', 'qcow2');
  if (!key) return void (await engine.img.run([...args, path, String(size)]));
  await withKeyArgs(engine, key, (secret) =>
    retryLuksTiming(async () => {
      rmSync(path, { force: true });
      await engine.img.run([args[0]!, ...secret, ...args.slice(1), path, String(size)]);
    }),
  );
}
