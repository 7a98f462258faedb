// QMP background jobs (snapshot-save/load/delete): started, watched through JOB_STATUS_CHANGE
// events with progress polled from query-jobs, then dismissed. The listener is registered
// before the command, so a job that finishes at once is not missed.
import { randomBytes } from 'node:crypto';
import { HangarError } from '../../shared/errors';
import type { QmpClient } from './qmp';

/** One entry of query-jobs (also read by backups, which watch their own block jobs). */
export interface JobInfo {
  id: string;
  status: string;
  'current-progress': number;
  'total-progress': number;
  error?: string;
}

/** Reports a job's progress from query-jobs every `everyMs` until the returned function is called. */
export function pollProgress(
  qmp: QmpClient,
  jobId: string,
  onProgress: (percent: number) => void,
  everyMs: number,
): () => void {
  const poll = setInterval(() => {
    qmp
      .execute<JobInfo[]>('query-jobs')
      .then((jobs) => {
        const j = jobs.find((x) => x.id === jobId);
        if (j && j['total-progress'] > 0) onProgress((100 * j['current-progress']) / j['total-progress']);
      })
      .catch(() => undefined);
  }, everyMs);
  return () => clearInterval(poll);
}

export async function runJob(
  qmp: QmpClient,
  command: string,
  args: Record<string, unknown>,
  onProgress: (percent: number) => void,
  timeoutMs = 30 * 60_000,
): Promise<void> {
  const jobId = `hangar-${randomBytes(4).toString('hex')}`;
  const concluded = qmp.waitForEvent<{ id: string; status: string }>('JOB_STATUS_CHANGE', {
    timeoutMs,
    predicate: (e) => e.data.id === jobId && e.data.status === 'concluded',
  });
  concluded.catch(() => undefined);
  await qmp.execute(command, { 'job-id': jobId, ...args });
  const stop = pollProgress(qmp, jobId, onProgress, 200);
  try {
    await concluded;
  } finally {
    stop();
  }
  const jobs = await qmp.execute<JobInfo[]>('query-jobs');
  const job = jobs.find((j) => j.id === jobId);
  await qmp.execute('job-dismiss', { id: jobId }).catch(() => undefined);
  if (job?.error) {
    // QEMU reports a full disk as text only; it is the user's to fix, so it gets its own code.
    if (/No space left|ENOSPC|quota/i.test(job.error))
      throw new HangarError('IO_ERROR', `The disk is full: ${command} failed: ${job.error}`);
    throw new HangarError('QMP_ERROR', `${command} failed: ${job.error}`);
  }
  onProgress(100);
}
