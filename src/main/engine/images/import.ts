// Imports a disk image the user already has into the library: qcow2, raw and ISOs are stored as
// they are; vmdk (monolithic, split, stream-optimized), vdi, vhdx and vpc (VHD) are converted to
// qcow2 with qemu-img, checked with `qemu-img compare` against the original, then stored. The
// format is read by Hangar (sniff.ts) and given to qemu-img; files an image names (vmdk extents,
// backing and data files) are checked before qemu-img opens it.
import { randomBytes } from 'node:crypto';
import { lstatSync, rmSync, statSync, statfsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { realOr } from '../vms/dependents';
import { HangarError } from '../../../shared/errors';
import type { ImageMeta } from '../../../shared/images';
import type { QemuImg } from '../storage/qemu-img';
import { formatSize } from '../storage/size';
import type { ImageLibrary } from './library';
import { checkVmdkExtents } from './refs';
import { isoIds, sniffFormat, type SniffedFormat } from './sniff';
import { osFromIso } from './osinfo';

export const CONVERTIBLE = ['vmdk', 'vdi', 'vhdx', 'vpc'] as const;

export interface ImportProgress {
  (percent: number, step: string): void;
}

/** Reads a disk's format and refuses files that name other files outside their own folder. */
export async function checkDisk(
  img: QemuImg,
  path: string,
): Promise<{ format: SniffedFormat; virtualSize: number }> {
  const format = sniffFormat(path);
  if (format === 'ova')
    throw new HangarError(
      'INVALID_INPUT',
      `${path} is an OVA archive; import it as a VM (hangar image import makes one).`,
    );
  if (format === 'vmdk') checkVmdkExtents(path);
  const info = await img.info(path, format === 'iso' ? 'raw' : format);
  if (info['backing-filename'])
    throw new HangarError(
      'UNSUPPORTED',
      `${path} is an overlay on ${info['backing-filename']}; import a standalone image (qemu-img convert -O qcow2 flattens it).`,
    );
  const specific = (
    info as {
      'format-specific'?: { data?: { 'data-file'?: string; extents?: { filename?: string }[] } };
    }
  )['format-specific'];
  if (specific?.data?.['data-file'])
    throw new HangarError(
      'UNSUPPORTED',
      `${path} keeps its data in another file (${specific.data['data-file']}); Hangar does not follow it.`,
    );
  // Belt and braces after checkVmdkExtents: every extent qemu-img itself opened is a plain file
  // beside the descriptor, or nothing is converted.
  for (const e of specific?.data?.extents ?? []) {
    const name = e.filename ?? '';
    const real = realOr(name);
    const st = lstatSync(name, { throwIfNoEntry: false });
    if (dirname(real) !== dirname(realOr(path)) || !st?.isFile())
      throw new HangarError(
        'INVALID_INPUT',
        `${path} names an extent outside its folder (${name}); refused.`,
      );
  }
  return { format, virtualSize: info['virtual-size'] };
}

function requireRoom(dir: string, need: number, what: string): void {
  const st = statfsSync(dir);
  const free = st.bavail * st.bsize;
  if (need > free)
    throw new HangarError(
      'IO_ERROR',
      `${what} needs up to ${formatSize(need)}, but the library's disk has ${formatSize(free)} free.`,
      { need, free },
    );
}

export async function importDisk(
  lib: ImageLibrary,
  img: QemuImg,
  path: string,
  opts: {
    name?: string;
    source?: ImageMeta['source']['kind'];
    /** 'raw': an ISO 9660 file stored as a disk (a hybrid ISO); nothing else may be overridden. */
    as?: 'raw';
    onProgress?: ImportProgress;
  } = {},
): Promise<ImageMeta> {
  const checked = await checkDisk(img, path);
  if (opts.as === 'raw' && checked.format !== 'raw' && checked.format !== 'iso')
    throw new HangarError(
      'INVALID_INPUT',
      `${path} is a ${checked.format} image, not raw; import it without a format.`,
    );
  const format = opts.as ?? checked.format;
  const name = opts.name ?? basename(path);
  const progress = opts.onProgress ?? (() => {});
  const ids = format === 'iso' ? isoIds(path) : null;
  const os = ids ? osFromIso(ids) : null;
  const meta = {
    name,
    format: format === 'iso' ? ('iso' as const) : ('qcow2' as const),
    os: os ? { shortId: os.shortId, name: os.name } : null,
    source: { kind: opts.source ?? ('file' as const), from: path, originalFormat: format, verified: null },
    catalogId: null,
    defaultUser: null,
    serialConsole: null,
  };
  if (format === 'qcow2' || format === 'raw' || format === 'iso') {
    requireRoom(lib.dir, statSync(path).size, `Copying ${path}`);
    return lib.add(
      path,
      format,
      { ...meta, format },
      {
        onProgress: (done, total) =>
          progress(Math.floor((100 * done) / Math.max(1, total)), 'copying and hashing'),
      },
    );
  }
  // The converted image holds at most what the source holds, allocated.
  requireRoom(lib.dir, statSync(path).size * 2, `Converting ${path}`);
  const tmp = join(lib.dir, `.tmp-conv-${randomBytes(6).toString('hex')}.qcow2`);
  try {
    await img.convert({ path, format }, { path: tmp, format: 'qcow2' }, (p) =>
      progress(Math.floor(p * 0.8), `converting ${format} to qcow2`),
    );
    progress(80, 'comparing the copy with the original');
    if (!(await img.compare({ path, format }, { path: tmp, format: 'qcow2' })))
      throw new HangarError(
        'QEMU_FAILED',
        `The converted copy of ${path} differs from it; nothing was imported.`,
      );
    return await lib.add(
      tmp,
      'qcow2',
      { ...meta, source: { ...meta.source, kind: 'import' } },
      {
        move: true,
        onProgress: (done, total) => progress(90 + Math.floor((10 * done) / Math.max(1, total)), 'hashing'),
      },
    );
  } finally {
    rmSync(tmp, { force: true });
  }
}
