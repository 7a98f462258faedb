// A whole VM as one file, to move it to another machine: a tar of one backup point and the points
// under it, each as its repository folder (<backup-id>/manifest.json and the files it lists), with
// hangar-archive.json naming the point. Import treats the archive as untrusted input: only plain
// files with the names a backup folder can hold, nothing twice, nothing the manifests do not list,
// sizes checked against the free space before anything is written, and every point's hashes and
// image headers checked before it joins the repository; then the point is restored as a new VM.
import { randomBytes } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
} from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract, pack } from 'tar-stream';
import { z } from 'zod';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { formatSize } from '../storage/size';
import { checkHostPath } from '../policy/paths';
import { BackupFileName, BackupId, MANIFEST_FILE, readManifest } from './manifest';
import {
  chainOf,
  findBackup,
  listBackups,
  publishBackup,
  repositoryPath,
  vmFolder,
  type ListedBackup,
} from './repository';
import { restoreBackup } from './restore';
import { chainProblems } from './verify';

const DESCRIPTOR = 'hangar-archive.json';
const Descriptor = z.object({
  format: z.literal('hangar-vm-archive'),
  version: z.literal(1),
  backup: BackupId,
  vm: z.object({ id: z.string().regex(/^[a-z0-9]{12}$/), name: z.string().max(200) }),
  chain: z.array(BackupId).min(1).max(1000),
});
type Descriptor = z.infer<typeof Descriptor>;

/** Writes the point (a backup id, or a VM's newest point) and its chain to `file` (never replaced). */
export async function exportArchive(
  engine: EngineContext,
  ref: string,
  file: string,
  options: { repository?: string | null } = {},
): Promise<{ file: string; backup: string; vm: string; bytes: number }> {
  const repo = repositoryPath(engine, options.repository);
  const leaf = newestOrById(engine, repo, ref);
  const chain = chainOf(repo, leaf);
  if (existsSync(file))
    throw new HangarError(
      'CONFLICT',
      `${file} exists already; Hangar does not overwrite it. Choose another name.`,
    );
  writableFolder(engine, dirname(file));
  const descriptor: Descriptor = {
    format: 'hangar-vm-archive',
    version: 1,
    backup: leaf.manifest.id,
    vm: leaf.manifest.vm,
    chain: chain.map((b) => b.manifest.id),
  };
  const partial = `${file}.partial-${randomBytes(3).toString('hex')}`;
  const tar = pack();
  const written = pipeline(tar, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
  try {
    const add = async (name: string, path: string) => {
      const size = statSync(path).size;
      const entry = tar.entry({ name, size, mode: 0o600, type: 'file' });
      await pipeline(createReadStream(path), entry);
    };
    tar.entry({ name: DESCRIPTOR, mode: 0o600 }, `${JSON.stringify(descriptor, null, 2)}\n`);
    for (const [n, b] of chain.entries()) {
      engine.progress(leaf.manifest.vm.id, 'export', (n / chain.length) * 99, `packing ${b.manifest.id}`);
      await add(`${b.manifest.id}/${MANIFEST_FILE}`, join(b.dir, MANIFEST_FILE));
      for (const f of b.manifest.files) await add(`${b.manifest.id}/${f.name}`, join(b.dir, f.name));
    }
    tar.finalize();
    await written;
    renameSync(partial, file);
  } catch (err) {
    tar.destroy();
    rmSync(partial, { force: true });
    throw err;
  } finally {
    engine.endProgress(leaf.manifest.vm.id, 'export', !existsSync(file));
  }
  return { file, backup: leaf.manifest.id, vm: leaf.manifest.vm.name, bytes: statSync(file).size };
}

/** The archive's folder: there, a folder, and (symlinks resolved) never inside Hangar's own data. */
function writableFolder(engine: EngineContext, folder: string): void {
  let real: string;
  try {
    real = realpathSync(folder);
  } catch {
    throw new HangarError('NOT_FOUND', `The folder ${folder} does not exist.`);
  }
  if (!statSync(real).isDirectory()) throw new HangarError('INVALID_INPUT', `${folder} is not a folder.`);
  for (const root of engine.policy.protectedRoots)
    if (real === root || real.startsWith(root.endsWith(sep) ? root : root + sep))
      throw new HangarError(
        'INVALID_INPUT',
        `${folder} is inside Hangar's own data (${root}); write the archive somewhere else.`,
      );
}

function newestOrById(engine: EngineContext, repo: string, ref: string): ListedBackup {
  if (BackupId.safeParse(ref).success) return findBackup(repo, ref);
  const vm = engine.resolve(ref);
  const newest = listBackups(repo, vm.id).backups.at(-1);
  if (!newest)
    throw new HangarError(
      'NOT_FOUND',
      `"${vm.name}" has no backup yet: hangar backup create ${vm.id} first.`,
    );
  return newest;
}

/** A member's name: the descriptor, or <backup-id>/<a name a backup folder holds>. */
function memberName(name: string): { point: string; file: string } | null {
  if (name === DESCRIPTOR) return null;
  const slash = name.indexOf('/');
  const point = name.slice(0, slash);
  const file = name.slice(slash + 1);
  if (slash < 0 || !BackupId.safeParse(point).success || !BackupFileName.safeParse(file).success)
    throw new HangarError(
      'INVALID_INPUT',
      `The archive holds "${name.slice(0, 200)}", which no Hangar backup holds; refused.`,
    );
  return { point, file };
}

/** Unpacks into `dir`: plain files with backup names only, each once, within the free space. */
async function unpack(archive: string, dir: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const st = statfsSync(dir);
  let room = st.bavail * st.bsize - (512 << 20);
  const ex = extract();
  const source = createReadStream(archive);
  source.on('error', (err) => ex.destroy(err));
  source.pipe(ex);
  try {
    for await (const entry of ex) {
      const { header } = entry;
      const where = memberName(header.name);
      if (header.type !== 'file')
        throw new HangarError(
          'INVALID_INPUT',
          `The archive member "${header.name}" is a ${header.type}, not a file; refused.`,
        );
      if (seen.has(header.name))
        throw new HangarError('INVALID_INPUT', `The archive holds "${header.name}" twice; refused.`);
      const size = header.size ?? 0;
      if (where === null && size > 64 << 10)
        throw new HangarError(
          'INVALID_INPUT',
          `The archive's ${DESCRIPTOR} is too large to be one; refused.`,
        );
      if (size > room)
        throw new HangarError(
          'IO_ERROR',
          `The archive member "${header.name}" declares ${formatSize(size)}, more than the free space allows; nothing is imported.`,
        );
      room -= size;
      seen.add(header.name);
      const target = where === null ? join(dir, DESCRIPTOR) : join(dir, where.point, where.file);
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      await pipeline(entry, createWriteStream(target, { flags: 'wx', mode: 0o600 }));
    }
  } catch (err) {
    source.destroy();
    if (err instanceof HangarError) throw err;
    throw new HangarError(
      'INVALID_INPUT',
      `${archive} could not be read as a Hangar archive: ${(err as Error).message}`,
    );
  }
  return seen;
}

/** Imports an archive into the default repository and restores its point as a new VM `name`. */
export async function importArchive(
  engine: EngineContext,
  archive: string,
  name: string,
  key: Buffer | null = null,
): Promise<VmConfig> {
  const source = checkHostPath(engine.policy, archive, 'file to import').path;
  const repo = repositoryPath(engine, null);
  const staging = join(repo, `.import-${randomBytes(6).toString('hex')}`);
  mkdirSync(staging, { mode: 0o700 });
  const published: string[] = [];
  try {
    const members = await unpack(source, staging);
    if (!members.has(DESCRIPTOR))
      throw new HangarError('INVALID_INPUT', `${archive} is not a Hangar VM archive (no ${DESCRIPTOR}).`);
    let descriptor: Descriptor;
    try {
      descriptor = Descriptor.parse(JSON.parse(readFileSync(join(staging, DESCRIPTOR), 'utf8')));
    } catch (err) {
      throw new HangarError(
        'INVALID_INPUT',
        `${archive} has a damaged ${DESCRIPTOR}: ${(err as Error).message.slice(0, 300)}`,
      );
    }
    const points: ListedBackup[] = descriptor.chain.map((id) => {
      const dir = join(staging, id);
      const manifest = readManifest(join(dir, MANIFEST_FILE));
      if (manifest.id !== id || manifest.vm.id !== descriptor.vm.id)
        throw new HangarError(
          'INVALID_INPUT',
          `The archive's point ${id} holds the manifest of another backup; refused.`,
        );
      return { dir, manifest };
    });
    // Every member is a listed file of a listed point, and each point is built on the one before.
    const listed = new Set([
      DESCRIPTOR,
      ...points.flatMap((p) =>
        [MANIFEST_FILE, ...p.manifest.files.map((f) => f.name)].map((f) => `${p.manifest.id}/${f}`),
      ),
    ]);
    const extra = [...members].filter((m) => !listed.has(m));
    if (extra.length)
      throw new HangarError(
        'INVALID_INPUT',
        `The archive holds files no manifest lists (${extra.slice(0, 5).join(', ')}); refused.`,
      );
    points.forEach((p, i) => {
      if (
        p.manifest.parent !== (i ? points[i - 1]!.manifest.id : null) ||
        p.manifest.chainId !== points[0]!.manifest.chainId
      )
        throw new HangarError('INVALID_INPUT', `The archive's chain is broken at ${p.manifest.id}; refused.`);
    });
    if (points.at(-1)!.manifest.id !== descriptor.backup)
      throw new HangarError(
        'INVALID_INPUT',
        'The archive names a point that is not the last of its chain; refused.',
      );
    // Hashes, then headers (only our own chain's names as backing files), before qemu-img reads on.
    const problems = await chainProblems(engine, points);
    if (problems.length)
      throw new HangarError(
        'CONFIG_CORRUPT',
        `${archive} is damaged: ${problems.map((p) => `${p.file.slice(staging.length + 1)}: ${p.problem}`).join('; ')}`,
        { problems },
      );
    const folder = vmFolder(repo, descriptor.vm.id);
    for (const p of points)
      if (existsSync(join(folder, p.manifest.id)))
        throw new HangarError(
          'CONFLICT',
          `Backup ${p.manifest.id} is in the repository already: restore it with hangar backup restore ${descriptor.backup} --name NAME.`,
        );
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    for (const p of points) {
      publishBackup(p.dir, repo, descriptor.vm.id, p.manifest.id);
      published.push(join(folder, p.manifest.id));
    }
    return await restoreBackup(engine, descriptor.backup, name, { vmId: descriptor.vm.id, key });
  } catch (err) {
    // A failed import leaves nothing of the archive in the repository.
    for (const dir of published) rmSync(dir, { recursive: true, force: true });
    throw err;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
