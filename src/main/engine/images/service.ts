// The image library's operations as the API offers them: list, add, import (disks and OVAs), pull
// from the catalog, remove, verify. Host files pass the host-path policy first; an image is
// claimed by a lock while it is removed or used to make a VM, and one in use is never removed.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import type { ImageEntry, ImageMeta, VerifyResult } from '../../../shared/images';
import type { VmConfig } from '../../../shared/vm';
import { CreateVmRequest } from '../../../shared/requests';
import type { EngineContext } from '../context';
import { checkHostPath } from '../policy/paths';
import { dependents, realOr } from '../vms/dependents';
import { createVm } from '../vms/create';
import { nextDiskId } from '../vms/disks';
import { OS_PROFILES } from '../../../shared/profiles';
import { catalogEntry, type CatalogEntry } from './catalog';
import { checksumFor, parseChecksums, type ChecksumEntry } from './checksums';
import { download, fetchSmall, partialFile } from './download';
import { verifySignedList } from './signature';
import { hashFile } from './hash';
import { checkDisk, importDisk } from './import';
import { ImageLibrary } from './library';
import { findOs, osFromIso } from './osinfo';
import { checkManifest, MAX_OVF, readOvaDescriptor, unpackOva } from './ova';
import { parseOvf, type OvfMachine } from './ovf';
import { isoIds, sniffFormat } from './sniff';

export const imageClaim = (id: string) => ({
  key: `image:${id}`,
  mode: 'write' as const,
  label: `the image ${id.slice(0, 12)}`,
});

export function library(engine: EngineContext): ImageLibrary {
  return new ImageLibrary(engine.home, engine.img);
}

function progress(engine: EngineContext, operation: string) {
  return (percent: number, step: string) => engine.progress('images', operation, percent, step);
}

/** The VMs that use an image: as a backing file (linked clones included) or in a CD drive. */
async function usersOf(engine: EngineContext, file: string): Promise<string[]> {
  const users = await dependents(engine, '', [file], { namesOnly: true });
  const real = realOr(file);
  for (const e of engine.store.list())
    if (e.ok && e.config.cdroms.some((c) => c.media !== null && realOr(c.media) === real))
      users.push(e.config.name);
  return users;
}

export async function listImages(engine: EngineContext): Promise<ImageEntry[]> {
  const lib = library(engine);
  return Promise.all(lib.list().map(async (m) => ({ ...m, usedBy: await usersOf(engine, lib.file(m)) })));
}

export async function removeImage(engine: EngineContext, ref: string): Promise<ImageMeta> {
  const lib = library(engine);
  const meta = lib.resolve(ref);
  return engine.withLocks([imageClaim(meta.id)], 'remove image', async () => {
    const users = await usersOf(engine, lib.file(meta));
    if (users.length)
      throw new HangarError(
        'CONFLICT',
        `The image ${meta.name} is used by ${users.join(', ')}; delete those VMs (or make them independent) first.`,
        { users },
      );
    lib.remove(meta);
    return meta;
  });
}

export async function verifyImages(engine: EngineContext, ref?: string): Promise<VerifyResult[]> {
  const lib = library(engine);
  const list = ref ? [lib.resolve(ref)] : lib.list();
  const out: VerifyResult[] = [];
  try {
    for (const [i, m] of list.entries()) {
      const actual = await lib.verify(m, (done, total) =>
        progress(engine, 'verify')(
          ((i + done / Math.max(1, total)) * 100) / list.length,
          `checking ${m.name}`,
        ),
      );
      out.push({ id: m.id, name: m.name, ok: actual === m.id, actual });
    }
  } finally {
    engine.endProgress('images', 'verify', false);
  }
  return out;
}

/** A host file into the library as it is (qcow2, raw, ISO) or converted (vmdk, vdi, vhdx, vpc). */
export async function addImage(
  engine: EngineContext,
  path: string,
  name?: string,
  as?: 'raw',
): Promise<ImageMeta> {
  const checked = checkHostPath(engine.policy, path, 'file to import');
  try {
    return await importDisk(library(engine), engine.img, checked.path, {
      name,
      as,
      onProgress: progress(engine, 'import'),
    });
  } finally {
    engine.endProgress('images', 'import', false);
  }
}

/** What an ISO the user picked is: ISO 9660/UDF media or not, and the OS osinfo recognises. */
export function identifyIso(engine: EngineContext, path: string) {
  const checked = checkHostPath(engine.policy, path, 'ISO image').path;
  const kind = sniffFormat(checked);
  const ids = kind === 'iso' ? isoIds(checked) : null;
  return { kind, volumeId: ids?.volume ?? null, os: ids ? osFromIso(ids) : null };
}

export interface OvaImport {
  vm: VmConfig;
  image: ImageMeta;
  ovf: OvfMachine;
}

/** What importing an OVA would make, and what it could not honour; nothing is written. */
export async function planOva(engine: EngineContext, path: string): Promise<OvfMachine> {
  const checked = checkHostPath(engine.policy, path, 'file to import');
  if (sniffFormat(checked.path) !== 'ova')
    throw new HangarError('INVALID_INPUT', `${path} is not an OVA (a tar archive with an OVF inside).`);
  const { ovf, members } = await readOvaDescriptor(checked.path);
  const machine = parseOvf(ovf);
  for (const f of machine.files)
    if (!members.has(f.href))
      throw new HangarError('INVALID_INPUT', `The OVF names ${f.href}, which the OVA does not hold.`);
  if (!machine.disks[0])
    throw new HangarError(
      'INVALID_INPUT',
      'The OVF describes no disk with a file; there is nothing to boot.',
    );
  return machine;
}

/** An OVA becomes a library image (its disk, converted) and a VM on it with the OVF's settings. */
export async function importOva(engine: EngineContext, path: string, name?: string): Promise<OvaImport> {
  const checked = checkHostPath(engine.policy, path, 'file to import');
  if (sniffFormat(checked.path) !== 'ova')
    throw new HangarError('INVALID_INPUT', `${path} is not an OVA (a tar archive with an OVF inside).`);
  const lib = library(engine);
  const dir = join(lib.dir, `.tmp-ova-${randomBytes(6).toString('hex')}`);
  const report = progress(engine, 'import');
  try {
    report(0, 'unpacking the OVA');
    const unpacked = await unpackOva(checked.path, dir);
    const ovfName = [...unpacked.files.keys()].filter((n) => n.toLowerCase().endsWith('.ovf'));
    if (ovfName.length !== 1)
      throw new HangarError(
        'INVALID_INPUT',
        `The OVA must hold exactly one .ovf descriptor; it holds ${ovfName.length}.`,
      );
    const mf = [...unpacked.files.keys()].find((n) => n.toLowerCase().endsWith('.mf'));
    if (mf) checkManifest(readFileSync(join(dir, mf), 'utf8'), unpacked.files);
    if (unpacked.files.get(ovfName[0]!)!.size > MAX_OVF)
      throw new HangarError(
        'INVALID_INPUT',
        `The OVF descriptor is larger than ${MAX_OVF >> 20} MiB; refused.`,
      );
    const ovf = parseOvf(readFileSync(join(dir, ovfName[0]!), 'utf8'));
    for (const f of ovf.files) {
      const held = unpacked.files.get(f.href);
      if (!held)
        throw new HangarError('INVALID_INPUT', `The OVF names ${f.href}, which the OVA does not hold.`);
      if (f.size !== null && f.size !== held.size)
        throw new HangarError(
          'INVALID_INPUT',
          `The OVF says ${f.href} is ${f.size} bytes; the OVA holds ${held.size}.`,
        );
    }
    if (!ovf.disks[0])
      throw new HangarError(
        'INVALID_INPUT',
        'The OVF describes no disk with a file; there is nothing to boot.',
      );
    const vmName = name ?? ovf.name;
    // Every disk into the library; the VM gets an overlay on each, the first as its boot disk.
    const disks: ImageMeta[] = [];
    const share = 90 / ovf.disks.length;
    for (const [i, disk] of ovf.disks.entries()) {
      disks.push(
        await importDisk(lib, engine.img, join(dir, disk.file), {
          name: `${vmName}-${basename(disk.file)}`,
          source: 'import',
          onProgress: (p, step) =>
            report(5 + share * i + (p * share) / 100, `disk ${i + 1} of ${ovf.disks.length}: ${step}`),
        }),
      );
    }
    const image = disks[0]!;
    report(96, 'creating the VM');
    const memoryMiB = ovf.memoryMiB ?? undefined;
    const windows = /windows/i.test(ovf.osType ?? '');
    const vm = await createWithImage(engine, image.id, {
      name: vmName,
      osType: windows ? 'windows10' : 'linux',
      cpus: ovf.cpus ? Math.min(ovf.cpus, engine.host.hostCpus) : undefined,
      memoryMiB: memoryMiB ? Math.min(memoryMiB, engine.host.hostMemoryMiB) : undefined,
      firmware: ovf.firmware,
      description: `Imported from ${basename(checked.path)}.${ovf.notHonoured.length ? ` Not honoured: ${ovf.notHonoured.join('; ')}.` : ''}`,
    });
    let made = vm;
    for (const extra of disks.slice(1)) made = await attachImage(engine, made.id, extra);
    return { vm: made, image: { ...image, source: { ...image.source, from: checked.path } }, ovf };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    engine.endProgress('images', 'import', false);
  }
}

/** Runs `fn` with a library image held against removal (no image: just runs it). */
export function holdImage<T>(
  engine: EngineContext,
  ref: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!ref) return fn();
  const meta = library(engine).resolve(ref);
  return engine.withLocks([{ ...imageClaim(meta.id), mode: 'read' }], 'create', fn);
}

/** Adds a disk to a stopped VM: an overlay of its own on a library image (held while it is made). */
export async function attachImage(engine: EngineContext, vmId: string, meta: ImageMeta): Promise<VmConfig> {
  const lib = library(engine);
  return engine.withLocks([{ ...imageClaim(meta.id), mode: 'read' }], 'disk add', () =>
    engine.withVm(vmId, 'disk add', async (config) => {
      engine.requireStopped(config, 'add a disk');
      const id = nextDiskId(config);
      const disk = {
        id,
        owned: true as const,
        file: `${id}.qcow2`,
        format: 'qcow2' as const,
        bus: OS_PROFILES[config.osType].diskBus,
        readOnly: false,
        cache: 'writeback' as const,
        discard: true,
      };
      await engine.img.create(join(engine.paths(config.id).vmDir, disk.file), {
        format: 'qcow2',
        sizeBytes: 0,
        backing: { path: lib.file(meta), format: meta.format },
      });
      const saved = engine.store.save({ ...engine.store.load(config.id), disks: [...config.disks, disk] });
      engine.emit('config', { id: saved.id, config: saved });
      return saved;
    }),
  );
}

/** Makes a VM on a library image with the image held against removal while it is made. */
export async function createWithImage(
  engine: EngineContext,
  ref: string,
  req: Partial<Parameters<typeof createVm>[0]> & { name: string },
): Promise<VmConfig> {
  const parsed = CreateVmRequest.parse({ ...req, image: ref });
  const meta = library(engine).resolve(ref);
  const config = await engine.withLocks([{ ...imageClaim(meta.id), mode: 'read' }], 'create', () =>
    createVm(parsed, {
      store: engine.store,
      host: engine.host,
      img: engine.img,
      policy: engine.policy,
      env: engine.env,
    }),
  );
  engine.emit('config', { id: config.id, config });
  return config;
}

/** The checksum list's text, its signature checked first where the catalog has the key. */
async function checksumList(
  engine: EngineContext,
  entry: CatalogEntry,
): Promise<{ text: string; signed: boolean }> {
  const raw = await fetchSmall(entry.checksums.url);
  const sig = entry.checksums.signature;
  if (!sig) return { text: raw.toString('utf8'), signed: false };
  const keyPath = isAbsolute(sig.keyFile) ? sig.keyFile : join(engine.home, sig.keyFile);
  let key: Buffer;
  try {
    key = readFileSync(keyPath);
  } catch (err) {
    throw new HangarError(
      'NOT_FOUND',
      `The key for ${entry.id} (${keyPath}) cannot be read: ${(err as Error).message}`,
    );
  }
  const signature = sig.url ? await fetchSmall(sig.url) : null;
  return { text: await verifySignedList(raw, signature, key, entry.checksums.url), signed: true };
}

/** The URL and checksum line a catalog entry resolves to today. */
async function resolveEntry(engine: EngineContext, entry: CatalogEntry) {
  const { text, signed } = await checksumList(engine, entry);
  const list = parseChecksums(text);
  let url = entry.url;
  if (entry.pattern) {
    const re = new RegExp(entry.pattern);
    const hit = list.find((e) => re.test(e.name.replace(/^\.\//, '')));
    if (!hit)
      throw new HangarError(
        'NOT_FOUND',
        `${entry.checksums.url} lists no file matching ${entry.pattern}; the vendor may have moved it.`,
      );
    url = new URL(
      hit.name.replace(/^\.\//, ''),
      entry.url.endsWith('/') ? entry.url : `${entry.url}/`,
    ).toString();
  }
  const file = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  let sum;
  try {
    sum = checksumFor(list, file);
  } catch (err) {
    throw new HangarError('INVALID_INPUT', (err as Error).message);
  }
  if (!sum)
    throw new HangarError(
      'NOT_FOUND',
      `${entry.checksums.url} lists no checksum for ${file}; Hangar does not use an unverified download.`,
    );
  return { url, sum, signed };
}

/**
 * Downloads a catalog entry, verifies it against the published checksum list and adds it to the
 * library. The partial file stays for a resume after a failed transfer; a digest mismatch deletes
 * it and fails closed.
 */
export async function pullImage(engine: EngineContext, id: string): Promise<ImageMeta> {
  const entry = catalogEntry(engine.home, id);
  const lib = library(engine);
  const report = progress(engine, 'pull');
  try {
    report(0, `reading ${entry.checksums.url}`);
    const { url, sum, signed } = await resolveEntry(engine, entry);
    const part = partialFile(join(lib.dir, '.partial'), url);
    // One pull per URL at a time: two would write one partial file.
    return await engine.withLocks(
      [{ key: `pull:${part}`, mode: 'write', label: `the download of ${url}` }],
      'pull',
      () => fetchVerifyAdd(engine, entry, { url, sum, signed, part, report }),
    );
  } catch (err) {
    engine.endProgress('images', 'pull', true);
    throw err;
  }
}

async function fetchVerifyAdd(
  engine: EngineContext,
  entry: CatalogEntry,
  job: {
    url: string;
    sum: ChecksumEntry;
    signed: boolean;
    part: string;
    report: (percent: number, step: string) => void;
  },
): Promise<ImageMeta> {
  const { url, sum, signed, part, report } = job;
  const lib = library(engine);
  {
    await download(url, part, {
      onProgress: (p) => {
        const pct = p.total ? (90 * p.done) / p.total : 0;
        report(
          pct,
          `downloading ${(p.done / 2 ** 20).toFixed(1)} MiB${p.total ? ` of ${(p.total / 2 ** 20).toFixed(1)} MiB` : ''}, ${(p.bytesPerSec / 2 ** 20).toFixed(1)} MiB/s${p.secondsLeft !== null ? `, ${p.secondsLeft} s left` : ''}`,
        );
      },
    });
    report(90, 'verifying the download');
    const digests = await hashFile(part, sum.algorithm === 'sha256' ? ['sha256'] : ['sha256', sum.algorithm]);
    const actual = digests[sum.algorithm];
    if (actual !== sum.digest) {
      rmSync(part, { force: true });
      throw new HangarError(
        'INVALID_INPUT',
        `The download of ${url} does not match its published checksum: ${entry.checksums.url} lists ${sum.algorithm} ${sum.digest}, the file has ${actual}. It was deleted; nothing was added.`,
        { expected: sum.digest, actual },
      );
    }
    const sniffed = sniffFormat(part);
    const format = entry.format;
    if ((format === 'iso') !== (sniffed === 'iso') || (format !== 'iso' && sniffed !== format)) {
      rmSync(part, { force: true });
      throw new HangarError(
        'INVALID_INPUT',
        `${url} verified, but it is a ${sniffed} file where the catalog says ${format}.`,
      );
    }
    // A published image is as untrusted as a picked one: one that names a backing or data file
    // (which QEMU would open at boot) is refused, however well its digest matches.
    if (format !== 'iso') {
      try {
        await checkDisk(engine.img, part);
      } catch (err) {
        rmSync(part, { force: true });
        throw err;
      }
    }
    report(95, 'adding it to the library');
    const os = entry.osinfo ? findOs(entry.osinfo) : null;
    const meta = await lib.add(
      part,
      format,
      {
        name: entry.id,
        format,
        os: { shortId: os?.shortId ?? entry.osinfo, name: os?.name ?? entry.name },
        source: {
          kind: 'download',
          from: url,
          originalFormat: null,
          verified: {
            algorithm: sum.algorithm,
            digest: sum.digest,
            list: entry.checksums.url,
            signed,
          },
        },
        catalogId: entry.id,
        defaultUser: entry.defaultUser,
        serialConsole: entry.serialConsole,
      },
      { move: true },
    );
    if (existsSync(part)) rmSync(part, { force: true });
    report(100, 'done');
    return meta;
  }
}
