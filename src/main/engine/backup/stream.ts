// One disk's block-stream, made safe for what QEMU 7.2 does around its end:
// - the job is not finalized by QEMU on its own (auto-finalize off): when it is pending, the image
//   is flushed, then finalized (which drops the backing file from the header), then flushed
//   again. QEMU rewrites the header before its metadata cache reaches the disk, so a crash right
//   after an unflushed finalize leaves a header without a backing file over tables not yet
//   written: zeros where the backup's data was.
// - the job is dismissed by QEMU itself once concluded (auto-dismiss on): listing the block nodes
//   while a concluded stream waits to be dismissed crashes QEMU 7.2. The result is read from
//   BLOCK_JOB_COMPLETED instead of the job.
import { HangarError } from '../../../shared/errors';
import { pollProgress, type JobInfo } from '../jobs';
import type { QmpClient } from '../qmp';

const DAY = 24 * 3600_000;

interface Completed {
  device: string;
  error?: string;
}

/** Writes the node's cached metadata to disk (HMP qemu-io: QMP has no flush of its own). */
async function flush(qmp: QmpClient, node: string): Promise<void> {
  const out = await qmp.execute<string>('human-monitor-command', {
    'command-line': `qemu-io ${node} "flush"`,
  });
  if (out.trim()) throw new HangarError('QMP_ERROR', `Flushing ${node} failed: ${out.trim()}`);
}

async function finalize(
  qmp: QmpClient,
  id: string,
  node: string,
  completed: Promise<Completed>,
): Promise<void> {
  await flush(qmp, node);
  await qmp.execute('job-finalize', { id });
  const c = await completed;
  if (c.error) throw new HangarError('QMP_ERROR', `Streaming ${node} failed: ${c.error}`);
  await flush(qmp, node);
}

function completion(qmp: QmpClient, id: string): Promise<Completed> {
  const ok = qmp.waitForEvent<Completed>('BLOCK_JOB_COMPLETED', {
    timeoutMs: DAY,
    predicate: (e) => e.data.device === id,
  });
  const cancelled = qmp.waitForEvent<Completed>('BLOCK_JOB_CANCELLED', {
    timeoutMs: DAY,
    predicate: (e) => e.data.device === id,
  });
  const p = Promise.race([
    ok.then((e) => e.data),
    cancelled.then((e) => ({ ...e.data, error: 'the job was cancelled' })),
  ]);
  p.catch(() => undefined);
  return p;
}

/** Streams the backing chain of `node` into it; resolves once the image stands alone on disk. */
export async function streamNode(
  qmp: QmpClient,
  node: string,
  onProgress: (percent: number) => void,
): Promise<void> {
  const id = `hangar-stream-${node}`;
  const pending = qmp.waitForEvent<{ id: string; status: string }>('JOB_STATUS_CHANGE', {
    timeoutMs: DAY,
    predicate: (e) => e.data.id === id && e.data.status === 'pending',
  });
  pending.catch(() => undefined);
  const completed = completion(qmp, id);
  await qmp.execute('block-stream', {
    'job-id': id,
    device: node,
    'auto-finalize': false,
    'auto-dismiss': true,
  });
  const stop = pollProgress(qmp, id, onProgress, 500);
  try {
    // A failed job never becomes pending: it ends, and says why, in BLOCK_JOB_COMPLETED.
    const first = await Promise.race([pending.then(() => null), completed]);
    if (first?.error) throw new HangarError('QMP_ERROR', `Streaming ${node} failed: ${first.error}`);
    if (first === null) await finalize(qmp, id, node, completed);
  } finally {
    stop();
  }
}

/**
 * A stream this QEMU runs already (an engine closed and opened again meanwhile): waited for, and
 * finalized as streamNode would when it is pending.
 */
export async function adoptStreams(qmp: QmpClient): Promise<void> {
  for (;;) {
    const jobs = await qmp.execute<(JobInfo & { type: string })[]>('query-jobs');
    const stream = jobs.find((j) => j.type === 'stream' && j.id.startsWith('hangar-stream-'));
    if (!stream) return;
    const node = stream.id.slice('hangar-stream-'.length);
    if (stream.status === 'pending') await finalize(qmp, stream.id, node, completion(qmp, stream.id));
    else await new Promise((r) => setTimeout(r, 500));
  }
}
