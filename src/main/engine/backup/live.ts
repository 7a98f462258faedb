// A live backup through QMP, without pausing the guest.
//
// Design: blockdev-backup (sync=full, or sync=incremental with the chain's bitmap) from each
// disk's format node to a qcow2 target in the repository, all started in one `transaction`
// with the bitmap operations, so every disk's point in time and the bitmap's starting point are
// the same instant. The backup job's copy-before-write filter keeps the point in time while the
// guest goes on writing. Fleecing (a copy-before-write filter plus snapshot-access, exported and
// read by us) would be needed only to read the point ourselves; QEMU writing the target directly
// is simpler, needs no NBD, and compresses on the way (compress=true, the target's
// compression_type=zstd).
//
// Bitmaps: a full adds the persistent bitmap hangar-<chain> in its transaction. An incremental
// reads hangar-<chain> with bitmap-mode=never and, in the same transaction, starts a fresh
// bitmap hangar-<chain>-n; only after the new point is published is the chain's bitmap cleared
// and the fresh one merged into it. So a backup killed at any moment leaves the chain's bitmap
// covering at least every change since the newest published point: never an incremental that
// misses a write.
import { randomBytes } from 'node:crypto';
import { HangarError } from '../../../shared/errors';
import type { QmpClient } from '../qmp';
import type { JobInfo } from '../jobs';
import { ENCRYPT_NODE, OPEN_TIMEOUT_MS } from './crypto';
import { bitmapName, nextBitmapName, type BitmapInfo } from './chain';

export interface LiveTarget {
  /** The disk's format node (the device id in the VM config). */
  node: string;
  /** The qcow2 made for this point (absolute). */
  path: string;
  /** The earlier points under it, nearest first (absolute), opened read-only. */
  backing: string[];
  /** Whether this node carries the chain's bitmap (disks do; UEFI variables are copied whole). */
  bitmap: boolean;
}

export interface LiveOptions {
  mode: 'full' | 'incremental';
  chainId: string;
  targets: LiveTarget[];
  /** Runs the transaction; the caller freezes the guest's filesystems around it. */
  atPointInTime: (start: () => Promise<void>) => Promise<void>;
  onProgress: (percent: number) => void;
  /** Called once the jobs run (tests inject faults here). */
  whileRunning: () => Promise<void>;
  timeoutMs?: number;
  /** Compressed clusters in the targets (the default, for a repository). */
  compress?: boolean;
  /** The targets and the points under them are LUKS-encrypted, opened with crypto.ts's secret. */
  encrypted?: boolean;
}

interface NodeInfo {
  'node-name': string;
  'dirty-bitmaps'?: BitmapInfo[];
}

/** The dirty bitmaps of each named node. */
export async function queryBitmaps(qmp: QmpClient): Promise<Map<string, BitmapInfo[]>> {
  const nodes = await qmp.execute<NodeInfo[]>('query-named-block-nodes', { flat: true });
  return new Map(nodes.map((n) => [n['node-name'], n['dirty-bitmaps'] ?? []]));
}

export async function removeBitmaps(qmp: QmpClient, node: string, names: string[]): Promise<void> {
  for (const name of names) await qmp.execute('block-dirty-bitmap-remove', { node, name });
}

function backingNode(chain: string[], encrypted: boolean): Record<string, unknown> | null {
  if (!chain.length) return null;
  return {
    driver: 'qcow2',
    'read-only': true,
    file: { driver: 'file', filename: chain[0], 'read-only': true },
    ...(encrypted ? ENCRYPT_NODE : {}),
    backing: backingNode(chain.slice(1), encrypted),
  };
}

/** Copies every target's point in time; on any failure nothing of it stays open in QEMU. */
export async function liveCopy(qmp: QmpClient, o: LiveOptions): Promise<void> {
  const tag = randomBytes(3).toString('hex');
  const nodeOf = (n: number) => `hbk-${tag}-${n}`;
  const jobOf = (n: number) => `hangar-backup-${tag}-${n}`;
  const added: string[] = [];
  const started: string[] = [];
  const timeoutMs = o.timeoutMs ?? 6 * 3600_000;
  let bitmapsAdded = false;
  try {
    for (const [n, t] of o.targets.entries()) {
      await qmp.execute(
        'blockdev-add',
        {
          driver: 'qcow2',
          'node-name': nodeOf(n),
          file: { driver: 'file', filename: t.path },
          ...(o.encrypted ? ENCRYPT_NODE : {}),
          // The backing chain is named node by node (never read from headers), so zero clusters
          // written into an incremental mean zeros over the earlier points, as in the guest.
          backing: backingNode(t.backing, o.encrypted === true),
        },
        o.encrypted ? { timeoutMs: OPEN_TIMEOUT_MS } : {},
      );
      added.push(nodeOf(n));
    }
    const actions: { type: string; data: Record<string, unknown> }[] = [];
    for (const [n, t] of o.targets.entries()) {
      const job: Record<string, unknown> = {
        'job-id': jobOf(n),
        device: t.node,
        target: nodeOf(n),
        sync: 'full',
        compress: o.compress ?? true,
        'auto-finalize': true,
        'auto-dismiss': false,
      };
      if (t.bitmap && o.mode === 'full') {
        actions.push({
          type: 'block-dirty-bitmap-add',
          data: { node: t.node, name: bitmapName(o.chainId), persistent: true },
        });
      } else if (t.bitmap) {
        actions.push({
          type: 'block-dirty-bitmap-add',
          data: { node: t.node, name: nextBitmapName(o.chainId) },
        });
        // sync=bitmap, since sync=incremental only allows bitmap-mode=on-success.
        Object.assign(job, { sync: 'bitmap', bitmap: bitmapName(o.chainId), 'bitmap-mode': 'never' });
      }
      actions.push({ type: 'blockdev-backup', data: job });
    }
    const concluded = o.targets.map((_, n) =>
      qmp.waitForEvent<{ id: string; status: string }>('JOB_STATUS_CHANGE', {
        timeoutMs,
        predicate: (e) => e.data.id === jobOf(n) && e.data.status === 'concluded',
      }),
    );
    for (const c of concluded) c.catch(() => undefined);
    await o.atPointInTime(async () => {
      await qmp.execute('transaction', { actions });
    });
    bitmapsAdded = true;
    started.push(...o.targets.map((_, n) => jobOf(n)));
    const poll = setInterval(() => {
      qmp
        .execute<JobInfo[]>('query-jobs')
        .then((jobs) => {
          const mine = jobs.filter((j) => started.includes(j.id));
          const total = mine.reduce((s, j) => s + j['total-progress'], 0);
          const done = mine.reduce((s, j) => s + j['current-progress'], 0);
          if (total > 0) o.onProgress((100 * done) / total);
        })
        .catch(() => undefined);
    }, 250);
    try {
      await o.whileRunning();
      await Promise.all(concluded);
    } finally {
      clearInterval(poll);
    }
    const jobs = await qmp.execute<JobInfo[]>('query-jobs');
    const errors = jobs.filter((j) => started.includes(j.id) && j.error).map((j) => j.error!);
    for (const id of started.splice(0)) await qmp.execute('job-dismiss', { id }).catch(() => undefined);
    if (errors.length) {
      if (errors.some((e) => /No space left|ENOSPC|quota/i.test(e)))
        throw new HangarError('IO_ERROR', `The backup repository's disk is full: ${errors[0]}`);
      throw new HangarError('QMP_ERROR', `The backup failed: ${errors.join('; ')}`);
    }
  } catch (err) {
    await abandon(qmp, started, o, bitmapsAdded);
    throw err;
  } finally {
    // Closing the targets flushes them: only then are the files on disk what the jobs wrote.
    for (const node of added.reverse())
      await qmp.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
  }
}

/** Stops jobs still running and takes back the bitmaps this attempt added (QEMU may be gone). */
async function abandon(qmp: QmpClient, jobs: string[], o: LiveOptions, bitmapsAdded: boolean): Promise<void> {
  if (qmp.state !== 'ready') return;
  for (const id of jobs) {
    const done = qmp
      .waitForEvent<{ id: string; status: string }>('JOB_STATUS_CHANGE', {
        timeoutMs: 30_000,
        predicate: (e) => e.data.id === id && e.data.status === 'concluded',
      })
      .catch(() => undefined);
    const cancelled = await qmp.execute('job-cancel', { id }).then(
      () => true,
      () => false,
    );
    if (cancelled) await done;
    await qmp.execute('job-dismiss', { id }).catch(() => undefined);
  }
  if (!bitmapsAdded) return;
  // A full's bitmap would start a chain that has no first point; an incremental's fresh bitmap
  // is dropped (the chain's own still covers every change since the last published point).
  const name = o.mode === 'full' ? bitmapName(o.chainId) : nextBitmapName(o.chainId);
  for (const t of o.targets.filter((x) => x.bitmap))
    await qmp.execute('block-dirty-bitmap-remove', { node: t.node, name }).catch(() => undefined);
}

/**
 * After an incremental point is published: the chain's bitmap becomes the fresh one taken at
 * that point (cleared, then merged, in one transaction), and the fresh one goes.
 */
export async function advanceChain(qmp: QmpClient, nodes: string[], chainId: string): Promise<void> {
  const actions = nodes.flatMap((node) => [
    { type: 'block-dirty-bitmap-clear', data: { node, name: bitmapName(chainId) } },
    {
      type: 'block-dirty-bitmap-merge',
      data: { node, target: bitmapName(chainId), bitmaps: [nextBitmapName(chainId)] },
    },
    { type: 'block-dirty-bitmap-remove', data: { node, name: nextBitmapName(chainId) } },
  ]);
  await qmp.execute('transaction', { actions });
}
