// Instant restore: a VM made from a backup point whose disks are overlays on the point's files
// (restore.ts, `instant`) starts at once and reads what it has not got yet from the backup. This
// streams the data in while the guest runs: QMP block-stream copies into each overlay what it
// does not hold yet and then drops the backing file from its header. When every disk is whole
// the VM's `instantRestore` mark is cleared, and the backup is no longer needed by it.
// A VM stopped, or an engine closed, half-way keeps reading from the backup: the stream starts
// again whenever the VM runs (start, or an engine adopting it) and copies only what is missing.
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { appendJournal } from '../journal/journal';
import { runJob, type JobInfo } from '../jobs';
import { perEngine } from '../per-engine';
import type { QmpClient } from '../qmp';
import { restoreBackup, type RestoreOptions } from './restore';

interface NodeInfo {
  'node-name': string;
  /** Set while the node has a backing file (flat listings give no depth). */
  backing_file?: string;
}

/** One stream at a time per VM; closed with the engine (QEMU goes on with a job under way). */
class Streams {
  private readonly active = new Set<string>();
  private closed = false;
  constructor(private readonly engine: EngineContext) {}

  close(): void {
    this.closed = true;
  }

  /** Streams the VM's disks in if it is marked and not streaming already; never throws. */
  run(id: string): void {
    if (this.closed || this.active.has(id)) return;
    let config: VmConfig;
    try {
      config = this.engine.store.load(id);
    } catch {
      return;
    }
    if (!config.instantRestore) return;
    this.active.add(id);
    void streamAll(this.engine, config)
      .then(() => clearMark(this.engine, id))
      .then(
        () =>
          note(
            this.engine,
            id,
            true,
            `every disk holds its data; backup ${config.instantRestore!.backup} is no longer read`,
          ),
        (err: unknown) => {
          this.engine.endProgress(id, 'restore', true);
          // A VM stopped half-way is not a failure: the next start goes on.
          if (!this.closed && !this.engine.isStopped(id))
            note(this.engine, id, false, `streaming from the backup stopped: ${(err as Error).message}`);
        },
      )
      .finally(() => this.active.delete(id));
  }
}

const streams = perEngine((engine) => new Streams(engine));

function note(engine: EngineContext, id: string, ok: boolean, detail: string): void {
  appendJournal(engine.paths(id).vmDir, {
    at: new Date().toISOString(),
    kind: 'operation',
    what: 'instant restore',
    ok,
    detail,
  });
}

async function readsBacking(qmp: QmpClient, node: string): Promise<boolean> {
  const nodes = await qmp.execute<NodeInfo[]>('query-named-block-nodes', { flat: true });
  return Boolean(nodes.find((n) => n['node-name'] === node)?.backing_file);
}

/** A stream this QEMU is already running (an engine closed and opened again meanwhile). */
async function waitForRunningStream(qmp: QmpClient): Promise<void> {
  for (;;) {
    const jobs = await qmp.execute<(JobInfo & { type: string })[]>('query-jobs');
    const stream = jobs.find((j) => j.type === 'stream');
    if (!stream) return;
    if (stream.status === 'concluded' || stream.status === 'null') {
      await qmp.execute('job-dismiss', { id: stream.id }).catch(() => undefined);
      continue;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function streamAll(engine: EngineContext, config: VmConfig): Promise<void> {
  const qmp = engine.qmp(config.id);
  await waitForRunningStream(qmp);
  const disks = config.disks.filter((d) => d.owned && !d.readOnly);
  await engine.failpoint('instant:stream');
  for (const [n, d] of disks.entries()) {
    if (!(await readsBacking(qmp, d.id))) continue;
    await runJob(
      qmp,
      'block-stream',
      { device: d.id, 'auto-dismiss': false },
      (p) =>
        engine.progress(
          config.id,
          'restore',
          ((n + p / 100) / disks.length) * 100,
          `streaming ${d.id} in from the backup`,
        ),
      24 * 3600_000,
    );
    if (await readsBacking(qmp, d.id))
      throw new HangarError('QMP_ERROR', `${d.id} still reads from the backup after streaming.`);
  }
  engine.progress(config.id, 'restore', 100, 'done');
}

/** Clears the mark under the VM's lock, waiting a while for an operation that holds it. */
async function clearMark(engine: EngineContext, id: string): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await engine.withVm(id, 'instant restore done', async (c) => {
        const saved = engine.store.save({ ...c, instantRestore: null });
        engine.emit('config', { id, config: saved });
      });
      return;
    } catch (err) {
      if (!(err instanceof HangarError && err.code === 'BUSY') || tries >= 120) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Goes on streaming for a VM that runs now (called on every state change to running). */
export function resumeInstantRestore(engine: EngineContext, id: string): void {
  streams(engine).run(id);
}

/** Restores a point as a new VM that starts at once, its data streamed in while it runs. */
export async function instantRestore(
  engine: EngineContext,
  backupId: string,
  name: string,
  options: Omit<RestoreOptions, 'instant'> = {},
): Promise<VmConfig> {
  const vm = await restoreBackup(engine, backupId, name, { ...options, instant: true });
  await engine.start(vm.id);
  resumeInstantRestore(engine, vm.id);
  return engine.store.load(vm.id);
}
