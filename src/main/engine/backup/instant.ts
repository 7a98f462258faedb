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
import { join } from 'node:path';
import { diskPath } from '../qemu/argv';
import { chainOf, findBackup, type ListedBackup } from './repository';
import { headerProblems } from './verify';
import { adoptStreams, streamNode } from './stream';
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
  private closed = false;
  constructor(private readonly engine: EngineContext) {}

  close(): void {
    this.closed = true;
  }

  private readonly active = new Map<string, Promise<void>>();

  /** Streams the VM's disks in if it is marked and not streaming already; never rejects. */
  run(id: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    const running = this.active.get(id);
    if (running) return running;
    let config: VmConfig;
    try {
      config = this.engine.store.load(id);
    } catch {
      return Promise.resolve();
    }
    if (!config.instantRestore) return Promise.resolve();
    const done = streamAll(this.engine, config)
      .then(async (whole) => {
        if (!whole) return;
        await clearMark(this.engine, id);
        note(
          this.engine,
          id,
          true,
          `every disk holds its data; backup ${config.instantRestore!.backup} is no longer read`,
        );
      })
      .then(
        () => undefined,
        (err: unknown) => {
          this.engine.endProgress(id, 'restore', true);
          // A VM stopped half-way is not a failure: the next start goes on.
          const state = this.engine.runtime(id).state;
          if (!this.closed && (state === 'running' || state === 'paused'))
            note(this.engine, id, false, `streaming from the backup stopped: ${(err as Error).message}`);
        },
      )
      .finally(() => this.active.delete(id));
    this.active.set(id, done);
    return done;
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

/** True once every disk stands alone; false when this run cannot stream (a disposable one). */
async function streamAll(engine: EngineContext, config: VmConfig): Promise<boolean> {
  // A disposable run's disks are throwaway overlays on the VM's own: streaming into them would
  // leave the real disks reading the backup. The next ordinary run streams.
  if (engine.runtime(config.id).disposable) return false;
  const qmp = engine.qmp(config.id);
  await adoptStreams(qmp);
  const disks = config.disks.filter((d) => d.owned && !d.readOnly);
  await engine.failpoint('instant:stream');
  for (const [n, d] of disks.entries()) {
    if (!(await readsBacking(qmp, d.id))) continue;
    await streamNode(qmp, d.id, (p) =>
      engine.progress(
        config.id,
        'restore',
        ((n + p / 100) / disks.length) * 100,
        `streaming ${d.id} in from the backup`,
      ),
    );
  }
  // The files themselves, as the next start will open them: none may still name a backing file.
  const { vmDir } = engine.paths(config.id);
  for (const d of disks) {
    const info = await engine.img.info(diskPath(config, d, vmDir), 'qcow2');
    if (info['backing-filename'])
      throw new HangarError(
        'QMP_ERROR',
        `${d.id} still reads from ${info['backing-filename']} after streaming.`,
      );
  }
  engine.progress(config.id, 'restore', 100, 'done');
  return true;
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

/**
 * Goes on streaming for a VM that runs now (called on every state change to running); resolves
 * when that stream ends, however it ends.
 */
export function resumeInstantRestore(engine: EngineContext, id: string): Promise<void> {
  return streams(engine).run(id);
}

/**
 * Before a VM that still reads from its backup starts: the repository is there, each disk's
 * header names the point's own file, and every point's header names only its own chain. The
 * repository may be a drive someone else writes, and QEMU follows those names at every start.
 */
export async function checkInstantChain(engine: EngineContext, config: VmConfig): Promise<void> {
  const from = config.instantRestore;
  if (!from) return;
  let leaf: ListedBackup;
  let chain: ListedBackup[];
  try {
    leaf = findBackup(from.repository, from.backup, null);
    chain = chainOf(from.repository, leaf);
  } catch (err) {
    throw new HangarError(
      'CONFLICT',
      `"${config.name}" still reads from backup ${from.backup} in ${from.repository}, which cannot be read ` +
        `(${(err as Error).message}). Put that folder back where it was, then start it again.`,
    );
  }
  const { vmDir } = engine.paths(config.id);
  for (const d of config.disks) {
    if (!d.owned || d.readOnly) continue;
    const saved = leaf.manifest.disks.find((x) => x.id === d.id);
    const backing = (await engine.img.info(diskPath(config, d, vmDir), 'qcow2'))['backing-filename'];
    if (backing && (!saved || backing !== join(leaf.dir, saved.file)))
      throw new HangarError(
        'CONFIG_CORRUPT',
        `${d.id} of "${config.name}" names ${backing} as its backing file, not its backup.`,
      );
  }
  for (const b of chain) {
    const problems = await headerProblems(engine, b);
    if (problems.length)
      throw new HangarError(
        'CONFIG_CORRUPT',
        `Backup ${b.manifest.id}, which "${config.name}" still reads, changed: ${problems.map((p) => `${p.file}: ${p.problem}`).join('; ')}`,
      );
  }
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
  void resumeInstantRestore(engine, vm.id);
  return engine.store.load(vm.id);
}
