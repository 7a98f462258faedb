// qemu-img with structured output only (--output=json). File names are always absolute, so
// qemu-img never reads a "protocol:" prefix from them, and formats are always explicit, so an
// image's content can never make it be read as another format.
import { execFile, spawn } from 'node:child_process';
import { existsSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { HangarError } from '../../../shared/errors';
import { formatSize } from './size';
import { opts } from '../qemu/escape';

export interface ImageSnapshot {
  id: string;
  name: string;
  'vm-state-size': number;
  'date-sec': number;
  'date-nsec': number;
  'vm-clock-sec': number;
}

export interface ImageInfo {
  filename: string;
  format: string;
  'virtual-size': number;
  'actual-size'?: number;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  'backing-filename-format'?: string;
  snapshots?: ImageSnapshot[];
  'dirty-flag'?: boolean;
}

export interface CheckResult {
  'check-errors'?: number;
  corruptions?: number;
  leaks?: number;
  'image-end-offset'?: number;
}

export type Preallocation = 'off' | 'metadata' | 'falloc' | 'full';

function absolute(path: string): string {
  if (!path.startsWith('/'))
    throw new HangarError('INVALID_INPUT', `Expected an absolute path, got "${path}".`);
  return path;
}

/**
 * A path a user gave must name an image file or a block device. qemu-img would block for good on a
 * FIFO (open waits for a writer) and read a character device or directory as nonsense, so those are
 * refused before it runs.
 */
function imageFile(path: string): string {
  const st = statSync(absolute(path), { throwIfNoEntry: false });
  // Worded as qemu-img words it, so a missing image reads the same whichever check finds it.
  if (!st)
    throw new HangarError('NOT_FOUND', `Could not open '${path}': No such file or directory`, { path });
  if (st.isFile() || st.isBlockDevice()) return path;
  const what = st.isDirectory()
    ? 'a directory'
    : st.isFIFO()
      ? 'a FIFO'
      : st.isSocket()
        ? 'a socket'
        : 'a device';
  throw new HangarError('INVALID_INPUT', `${path} is ${what}, not a disk image file.`, { path });
}

/**
 * A preallocated image takes its space at once; with more than the filesystem has free, qemu-img
 * would fill it to the last byte (full writes zeros) before failing. Refused up front instead.
 * metadata on qcow2 needs about one 8-byte L2 entry per 64 KiB cluster.
 */
function checkRoomFor(path: string, format: string, sizeBytes: number, preallocation: Preallocation): void {
  if (preallocation === 'metadata' && format !== 'qcow2')
    throw new HangarError(
      'INVALID_INPUT',
      `A ${format} image has no metadata to preallocate; choose off, falloc or full.`,
    );
  if (preallocation === 'off') return;
  const need = preallocation === 'metadata' ? Math.ceil(sizeBytes / 8192) : sizeBytes;
  let free: number;
  try {
    const st = statfsSync(dirname(path));
    free = st.bavail * st.bsize;
  } catch {
    return; // the directory is missing: qemu-img says so
  }
  if (need > free) {
    throw new HangarError(
      'IO_ERROR',
      `Preallocating ${formatSize(sizeBytes)} (${preallocation}) needs ${formatSize(need)} free, but ` +
        `${dirname(path)} has ${formatSize(free)}. Choose a smaller size or preallocation off.`,
      { need, free },
    );
  }
}

/** Turns qemu-img's complaint into an error that says what to do. */
function failure(args: string[], stderr: string, code: number | null): HangarError {
  // qemu-img repeats a prefix per layer ("Could not open 'x': Could not open 'x': ..."); say it once.
  const text = stderr
    .trim()
    .replace(/^qemu-img: /gm, '')
    .replace(/(Could not open '[^']*': )(?:\1)+/g, '$1');
  if (/lock/i.test(text)) {
    return new HangarError('BUSY', `The image is in use by a running VM (${text}). Stop that VM first.`, {
      args,
    });
  }
  if (/No space left/i.test(text)) return new HangarError('IO_ERROR', `The disk is full: ${text}`, { args });
  if (/No such file|Could not open/i.test(text)) return new HangarError('NOT_FOUND', text, { args });
  return new HangarError('QEMU_FAILED', `qemu-img failed (exit ${code}): ${text}`, { args });
}

export class QemuImg {
  constructor(readonly bin: string) {}

  run(args: string[], timeoutMs = 120_000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.bin, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = failure(args, stderr || err.message, typeof err.code === 'number' ? err.code : null);
        reject(new HangarError(e.code, e.message, { args, stdout }));
      });
    });
  }

  async create(
    path: string,
    opts: {
      format: 'qcow2' | 'raw';
      sizeBytes: number;
      preallocation?: Preallocation;
      backing?: { path: string; format: string };
    },
  ): Promise<void> {
    if (existsSync(absolute(path)))
      throw new HangarError('CONFLICT', `${path} already exists; refusing to overwrite it.`);
    checkRoomFor(path, opts.format, opts.sizeBytes, opts.preallocation ?? 'off');
    const args = ['create', '-q', '-f', opts.format];
    if (opts.preallocation && opts.preallocation !== 'off')
      args.push('-o', `preallocation=${opts.preallocation}`);
    if (opts.backing) args.push('-b', absolute(opts.backing.path), '-F', opts.backing.format);
    args.push(path);
    if (!opts.backing) args.push(String(opts.sizeBytes));
    await this.run(args, 30 * 60_000);
  }

  /** -U reads the header even while a VM holds the image open. */
  async info(path: string, format?: string): Promise<ImageInfo> {
    const args = ['info', '-U', '--output=json'];
    if (format) args.push('-f', format);
    return JSON.parse(await this.run([...args, imageFile(path)])) as ImageInfo;
  }

  /** `opened`: the image as a json: name with the --object arguments it needs (an encrypted one). */
  async check(
    path: string,
    format: string,
    opened?: { args: string[]; image: string },
  ): Promise<CheckResult> {
    const args = opened
      ? ['check', '--output=json', ...opened.args, opened.image]
      : ['check', '--output=json', '-f', format, absolute(path)];
    try {
      return JSON.parse(await this.run(args)) as CheckResult;
    } catch (err) {
      // check exits 2 or 3 when it finds corruption or leaks but still prints its JSON report.
      const out = (err as HangarError).details?.stdout;
      if (typeof out === 'string' && out.startsWith('{')) return JSON.parse(out) as CheckResult;
      throw err;
    }
  }

  async resize(
    path: string,
    format: string,
    sizeBytes: number,
    opts: { allowShrink?: boolean } = {},
  ): Promise<void> {
    const current = (await this.info(path, format))['virtual-size'];
    if (sizeBytes < current && !opts.allowShrink) {
      throw new HangarError(
        'INVALID_INPUT',
        `Shrinking ${path} from ${formatSize(current)} to ${formatSize(sizeBytes)} would destroy data at its end. ` +
          'Shrink the filesystem in the guest first, then repeat with --shrink.',
      );
    }
    if (sizeBytes === current) return;
    const args = ['resize', '-q', '-f', format];
    if (sizeBytes < current) args.push('--shrink');
    await this.run([...args, absolute(path), String(sizeBytes)]);
  }

  async snapshot(op: 'create' | 'apply' | 'delete', path: string, tag: string): Promise<void> {
    const flag = { create: '-c', apply: '-a', delete: '-d' }[op];
    // `snapshot` takes no -f; --image-opts pins the format instead of letting qemu-img probe it.
    const image = opts('driver=qcow2', { 'file.driver': 'file', 'file.filename': absolute(path) });
    await this.run(['snapshot', '-q', '--image-opts', flag, tag, image], 10 * 60_000);
  }

  /**
   * Whether two images show the same guest-visible content (a conversion's check): true when
   * identical, false when they differ; an error when either cannot be read.
   */
  compare(a: { path: string; format: string }, b: { path: string; format: string }): Promise<boolean> {
    const args = ['compare', '-q', '-f', a.format, '-F', b.format, absolute(a.path), absolute(b.path)];
    return new Promise((resolve, reject) => {
      execFile(this.bin, args, { timeout: 60 * 60_000 }, (err, _stdout, stderr) => {
        if (!err) return resolve(true);
        // Exit 1 means "different"; 2 and up are errors.
        if (err.code === 1) return resolve(false);
        reject(failure(args, stderr || err.message, typeof err.code === 'number' ? err.code : null));
      });
    });
  }

  /** Copies an image, reporting progress in percent from qemu-img's -p output. */
  convert(
    src: { path: string; format: string },
    dst: { path: string; format: string },
    onProgress?: (percent: number) => void,
  ): Promise<void> {
    if (existsSync(absolute(dst.path)))
      return Promise.reject(new HangarError('CONFLICT', `${dst.path} already exists.`));
    try {
      imageFile(src.path);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.runProgress(
      ['convert', '-p', '-f', src.format, '-O', dst.format, absolute(src.path), dst.path],
      onProgress,
    );
  }

  /** Runs a long command given -p, reporting its percentages as it goes (no time limit). */
  runProgress(args: string[], onProgress?: (percent: number) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        for (const m of d.toString().matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)) onProgress?.(Number(m[1]));
      });
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(failure(args, stderr, code))));
    });
  }
}
