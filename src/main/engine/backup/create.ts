// Making one backup of a VM: decide full or incremental (chain.ts), copy live through QMP
// (live.ts) or offline with qemu-img, write the manifest, publish with one rename.
import { refuseWhileStreaming } from './instant-guard';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import type { BackupResult } from '../../../shared/backup';
export type { BackupResult } from '../../../shared/backup';
import { HangarError } from '../../../shared/errors';
import { diskPath } from '../qemu/argv';
import { writeFileAtomic } from '../config/atomic';
import { QmpCommandError, QmpDisconnectedError, QmpStateError, type QmpClient } from '../qmp';
import { SEED_DIR } from '../cloudinit/seed';
import type { EngineContext } from '../context';
import { decideChain, staleBitmaps, bitmapName } from './chain';
import {
  CONFIG_COPY,
  VARS_BACKUP,
  hashFile,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type Consistency,
  type Manifest,
} from './manifest';
import {
  chainOf,
  listBackups,
  newBackupId,
  publishBackup,
  removeStale,
  repositoryPath,
  stageBackup,
  vmFolder,
  type ListedBackup,
} from './repository';
import { advanceChain, queryBitmaps, removeBitmaps } from './live';
import { copyRunning, type SourceDisk } from './copy-running';

export type { SourceDisk } from './copy-running';
import { recoverPrune } from './prune';
import { hangarVersion } from './version';
import { withDiskQemu } from './disk-qemu';
import { tpmStateFiles } from './tpm-state';
import { pointConfig } from './read-point';
import { fileKey, newSalt, seal } from './crypto';

export interface CreateBackupOptions {
  /** A repository folder; the default is $HANGAR_HOME/backups. */
  repository?: string | null;
  /** Start a new chain even when an incremental is possible. */
  full?: boolean;
  /** The secret that encrypts the point (crypto.ts); an encrypted chain needs it for every point. */
  key?: Buffer | null;
}

/** The disks a backup holds: every writable disk, which must be qcow2 (bitmaps live there). */
export async function sourceDisks(engine: EngineContext, config: VmConfig): Promise<SourceDisk[]> {
  const { vmDir } = engine.paths(config.id);
  const writable = config.disks.filter((d) => !d.readOnly);
  const raw = writable.filter((d) => d.format !== 'qcow2');
  if (raw.length)
    throw new HangarError(
      'UNSUPPORTED',
      `Disk ${raw.map((d) => d.id).join(', ')} is raw; incremental backups need qcow2 (its dirty bitmaps live in the image). ` +
        'Convert it (hangar disk convert VM DISK qcow2) or mark it read-only.',
    );
  if (!writable.length)
    throw new HangarError('UNSUPPORTED', `"${config.name}" has no writable disk to back up.`);
  const out: SourceDisk[] = [];
  for (const d of writable) {
    const path = diskPath(config, d, vmDir);
    const info = await engine.img.info(path, 'qcow2');
    out.push({
      id: d.id,
      path,
      virtualSize: info['virtual-size'],
      externalChain: d.owned ? 0 : d.backingChain.length,
    });
  }
  return out;
}

/** The newest published point of this VM, if its files are all there (else it cannot be a base). */
function usableTail(
  repo: string,
  backups: ListedBackup[],
): { tail: ListedBackup | null; why: string | null } {
  const tail = backups.at(-1) ?? null;
  if (!tail) return { tail: null, why: null };
  try {
    for (const b of chainOf(repo, tail))
      for (const f of b.manifest.files) {
        const st = statSync(join(b.dir, f.name), { throwIfNoEntry: false });
        if (!st || st.size !== f.size)
          throw new Error(`${b.manifest.id}/${f.name} is missing or changed size`);
      }
    return { tail, why: null };
  } catch (err) {
    return {
      tail: null,
      why: `the chain of backup ${tail.manifest.id} is damaged (${(err as Error).message})`,
    };
  }
}

export async function createBackup(
  engine: EngineContext,
  ref: string,
  options: CreateBackupOptions = {},
): Promise<BackupResult> {
  return engine.withVm(ref, 'backup', async (config) => {
    const rt = engine.runtime(config.id);
    if (rt.disposable)
      throw new HangarError(
        'CONFLICT',
        `"${config.name}" is in a disposable run; its writes are not kept, nor backed up.`,
      );
    const repo = repositoryPath(engine, options.repository);
    const removedStale = removeStale(vmFolder(repo, config.id));
    // A prune that was interrupted is finished first, so the chain read below is whole.
    recoverPrune(vmFolder(repo, config.id));
    const disks = await sourceDisks(engine, config);
    const running = rt.state === 'running' || rt.state === 'paused';
    if (running) refuseWhileStreaming(config, 'Back it up (or stop it: a stopped VM can be backed up now)');
    const { varsFile } = engine.paths(config.id);
    const withVars = config.firmware !== 'bios' && existsSync(varsFile);
    const run = (qmp: QmpClient) =>
      backUp(engine, config, {
        repo,
        disks,
        running,
        withVars,
        qmp,
        full: options.full === true,
        removedStale,
        key: options.key ?? null,
      });
    try {
      // A stopped VM's disks are opened in a QEMU of its own, so its bitmaps serve as a running
      // VM's do: a stopped VM's backup is an incremental too when its chain allows.
      return running ? await run(engine.qmp(config.id)) : await withDiskQemu(engine, config, withVars, run);
    } catch (err) {
      throw explain(err, config.name, running);
    }
  });
}

interface Job {
  repo: string;
  disks: SourceDisk[];
  running: boolean;
  withVars: boolean;
  qmp: QmpClient;
  full: boolean;
  removedStale: string[];
  key: Buffer | null;
}

async function backUp(engine: EngineContext, config: VmConfig, job: Job): Promise<BackupResult> {
  const { repo, disks, running, withVars, qmp } = job;
  const rt = engine.runtime(config.id);
  const { tail, why: damaged } = usableTail(repo, listBackups(repo, config.id).backups);
  const tailEncrypted = Boolean(tail?.manifest.encryption);
  const keyWarning = checkKey(config, listBackups(repo, config.id).backups.at(-1) ?? null, job);
  const bitmaps = await queryBitmaps(qmp);
  const decision = decideChain({
    tail: tail && {
      id: tail.manifest.id,
      chainId: tail.manifest.chainId,
      disks: tail.manifest.disks,
    },
    disks: disks.map((d) => ({ id: d.id, virtualSize: d.virtualSize })),
    forceFull: job.full || (job.key !== null && !tailEncrypted),
    bitmaps,
  });
  const encryptionAsked =
    job.key !== null && tail !== null && !tailEncrypted && !job.full
      ? 'encryption was asked for, and the chain so far is not encrypted'
      : null;
  const fullReason = decision.kind === 'full' ? (damaged ?? encryptionAsked ?? decision.reason) : null;
  const salt = job.key ? newSalt() : null;
  const chainId = decision.kind === 'incremental' ? decision.chainId : randomBytes(6).toString('hex');
  const parent = decision.kind === 'incremental' ? tail! : null;
  const startedAt = new Date();
  const id = newBackupId(startedAt, listBackups(repo, config.id).backups.at(-1)?.manifest.id ?? null);
  const { varsFile, vmDir } = engine.paths(config.id);
  const progress = (p: number, step: string) => engine.progress(config.id, 'backup', p, step);
  const dir = stageBackup(repo, config.id, id);
  let warning: string | undefined;
  try {
    const files = disks.map((d) => `${d.id}.qcow2`);
    warning = keyWarning;
    const copied = await copyRunning(engine, config, {
      dir,
      disks,
      files,
      kind: decision.kind,
      chainId,
      ancestors: parent ? chainOf(repo, parent).reverse() : [],
      varsSize: withVars ? (await engine.img.info(varsFile, 'qcow2'))['virtual-size'] : null,
      stale: decision.kind === 'incremental' ? bitmaps : new Map(),
      progress: (p) => progress(p * 0.9, 'copying the disks'),
      qmp,
      guestRuns: running,
      key: job.key,
    });
    if (copied.warning) warning = warning ? `${warning} ${copied.warning}` : copied.warning;
    // A stopped VM that shut down is consistent; one that crashed is as a power cut left it.
    const consistency: Consistency = running
      ? copied.consistency
      : rt.state === 'stopped'
        ? 'frozen'
        : 'crash-consistent';
    // vm.json, the seed's inputs and the TPM state: sealed before they are written when the
    // point is encrypted, so no plain copy ever reaches the repository, even for a moment.
    const k = job.key && salt ? fileKey(job.key, salt) : null;
    const small = smallFiles(vmDir, config);
    for (const f of small) {
      mkdirSync(dirname(join(dir, f.name)), { recursive: true, mode: 0o700 });
      writeFileAtomic(join(dir, f.name), k ? seal(f.bytes, f.name, k) : f.bytes);
    }
    progress(92, 'hashing');
    const names = [...files, ...(withVars ? [VARS_BACKUP] : []), ...small.map((f) => f.name)];
    const hashed = [];
    for (const name of names) hashed.push({ name, ...(await hashFile(join(dir, name))) });
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      id,
      vm: { id: config.id, name: config.name },
      // Readable without the key (listing, drills' choice of check): the password hash stays in the sealed vm.json.
      config: (salt ? redacted(config) : config) as unknown as Record<string, unknown>,
      chainId,
      kind: decision.kind,
      parent: parent?.manifest.id ?? null,
      fullReason,
      live: running,
      consistency,
      currentSnapshot: config.currentSnapshot,
      hangarVersion: hangarVersion(),
      qemuVersion: engine.host.qemu.version.slice(0, 50),
      startedAt: startedAt.toISOString(),
      completedAt: new Date().toISOString(),
      disks: disks.map((d, n) => ({
        id: d.id,
        file: files[n]!,
        virtualSize: d.virtualSize,
        backing: parent ? `../${parent.manifest.id}/${files[n]}` : null,
      })),
      varsFile: withVars ? VARS_BACKUP : null,
      files: hashed,
      encryption: salt ? { format: 'luks', salt } : null,
    };
    await engine.failpoint('backup:publish');
    writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    const published = publishBackup(dir, repo, config.id, id);
    // Published: only now may the chain's bitmap forget the changes this point holds.
    const after = await afterPublish(qmp, disks, decision.kind, chainId);
    if (after) warning = warning ? `${warning} ${after}` : after;
    progress(100, 'done');
    return {
      id,
      vmId: config.id,
      dir: published,
      kind: decision.kind,
      chainId,
      parent: manifest.parent,
      fullReason,
      consistency,
      live: running,
      encrypted: salt !== null,
      size: hashed.reduce((s, f) => s + f.size, 0),
      removedStale: job.removedStale,
      ...(warning ? { warning } : {}),
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The key against the VM's newest point (damaged or not): an encrypted chain is never left
 * without its key by mistake, nor continued, or followed by a full, under a mistyped one.
 * Returns the warning a deliberate change (a full without the key, or under another key) gets.
 */
function checkKey(config: VmConfig, newest: ListedBackup | null, job: Job): string | undefined {
  if (!newest?.manifest.encryption) return undefined;
  if (!job.key) {
    if (!job.full)
      throw new HangarError(
        'INVALID_INPUT',
        `The backups of "${config.name}" are encrypted: give their key (--passphrase-file FILE or --key-file FILE) ` +
          'for the next point, or ask for a full backup to start a new chain without encryption.',
      );
    return `The backups of "${config.name}" so far are encrypted; this full one, and the chain it starts, are not.`;
  }
  try {
    pointConfig(newest, job.key);
    return undefined;
  } catch (err) {
    if (!job.full) throw err;
    return `This full backup starts a chain under another key than backup ${newest.manifest.id} and those before it.`;
  }
}

/** QEMU gone mid-backup is said as such; QMP's own refusals keep their class in the message. */
function explain(err: unknown, name: string, running: boolean): unknown {
  if (err instanceof HangarError) return err;
  if (err instanceof QmpDisconnectedError || err instanceof QmpStateError)
    return new HangarError(
      'QEMU_FAILED',
      `${running ? 'QEMU' : 'The QEMU that held the stopped disks'} of "${name}" ended during the backup; nothing of it was kept, and the next backup will be a full one. (${(err as Error).message})`,
    );
  if (err instanceof QmpCommandError)
    return new HangarError('QMP_ERROR', `The backup failed: ${err.message}`);
  return err;
}

function redacted(config: VmConfig): VmConfig {
  return config.cloudInit ? { ...config, cloudInit: { ...config.cloudInit, passwordHash: null } } : config;
}

/** The point's small files, by their names in it: the config, the seed's inputs, the TPM state. */
function smallFiles(vmDir: string, config: VmConfig): { name: string; bytes: Buffer }[] {
  const out = [{ name: CONFIG_COPY, bytes: Buffer.from(JSON.stringify(config, null, 2) + '\n') }];
  const seed = join(vmDir, SEED_DIR);
  if (config.cloudInit && existsSync(seed))
    for (const f of readdirSync(seed))
      out.push({ name: `${SEED_DIR}/${f}`, bytes: readFileSync(join(seed, f)) });
  if (config.tpm)
    for (const f of tpmStateFiles(vmDir)) out.push({ name: f.name, bytes: readFileSync(f.path) });
  return out;
}

/**
 * The chain's bitmaps after a point is published: an incremental advances the chain's bitmap;
 * any bitmap of ours that belongs to no kept chain is removed (a new full makes the older
 * chain's bitmap stale). Failures here cost at most a bigger next incremental, so they warn.
 */
async function afterPublish(
  qmp: QmpClient,
  disks: SourceDisk[],
  kind: 'full' | 'incremental',
  chainId: string,
): Promise<string | undefined> {
  try {
    if (kind === 'incremental')
      await advanceChain(
        qmp,
        disks.map((d) => d.id),
        chainId,
      );
    const now = await queryBitmaps(qmp);
    for (const d of disks) {
      const stale = staleBitmaps(now.get(d.id) ?? [], chainId).filter((n) => n !== bitmapName(chainId));
      await removeBitmaps(qmp, d.id, stale);
    }
    return undefined;
  } catch (err) {
    return `The backup is complete, but the chain's dirty bitmaps could not be updated (${(err as Error).message}); the next backup may be larger or a full one.`;
  }
}
