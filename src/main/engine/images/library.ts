// $HANGAR_HOME/images: one folder per image, named by the SHA-256 of its file, holding the file
// (read-only) and meta.json. VMs use an image as the backing file of their own overlay, so a VM
// from an image is a linked clone made in milliseconds. An image is assembled in a `.tmp-` folder
// and published by one rename, so a crash never leaves a half image listed.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import { ImageMeta, type ImageFormat } from '../../../shared/images';
import { writeFileAtomic } from '../config/atomic';
import type { QemuImg } from '../storage/qemu-img';
import { copyHashed, hashFile } from './hash';

export type NewImage = Omit<ImageMeta, 'id' | 'virtualSize' | 'fileSize' | 'addedAt' | 'arch'> & {
  arch?: string;
};

export function imagesDir(home: string): string {
  return join(home, 'images');
}

export class ImageLibrary {
  readonly dir: string;

  constructor(
    home: string,
    private readonly img: QemuImg,
  ) {
    this.dir = imagesDir(home);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Half-made images of an engine that died; only called under the engine lock. */
  cleanup(): string[] {
    const gone: string[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.startsWith('.tmp-')) continue;
      rmSync(join(this.dir, name), { recursive: true, force: true });
      gone.push(name);
    }
    return gone;
  }

  file(meta: Pick<ImageMeta, 'id' | 'format'>): string {
    return join(this.dir, meta.id, `image.${meta.format}`);
  }

  list(): ImageMeta[] {
    const out: ImageMeta[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      try {
        const meta = ImageMeta.parse(JSON.parse(readFileSync(join(this.dir, name, 'meta.json'), 'utf8')));
        if (meta.id === name) out.push(meta);
      } catch {
        // A folder without readable metadata is not an image; verify names it.
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.addedAt.localeCompare(b.addedAt));
  }

  /**
   * By id, by name, by a unique id prefix of at least 6 digits, or by the catalog entry it was
   * pulled from (so `--image debian-12` works after `image pull debian-12`). Several images of one
   * name or one catalog entry that all came from the same entry (a "latest" pulled again) answer
   * with the newest.
   */
  resolve(ref: string): ImageMeta {
    const all = this.list();
    const byId = all.find((m) => m.id === ref);
    if (byId) return byId;
    const candidates =
      [
        all.filter((m) => m.name === ref),
        /^[0-9a-f]{6,63}$/.test(ref) ? all.filter((m) => m.id.startsWith(ref)) : [],
        all.filter((m) => m.catalogId === ref),
      ].find((c) => c.length > 0) ?? [];
    if (candidates.length === 1) return candidates[0]!;
    const entry = candidates[0]?.catalogId;
    if (entry && candidates.every((m) => m.catalogId === entry))
      return candidates.reduce((a, b) => (b.addedAt > a.addedAt ? b : a));
    if (candidates.length > 1)
      throw new HangarError(
        'CONFLICT',
        `"${ref}" names ${candidates.length} images (${candidates.map((m) => m.id.slice(0, 12)).join(', ')}); use an id.`,
      );
    throw new HangarError('NOT_FOUND', `No image "${ref}" in the library. See hangar image list.`);
  }

  /**
   * Adds a file: copied in while hashing (or moved, for a file Hangar made itself), then read
   * with qemu-img under its known format. An image already present is returned as it is.
   */
  async add(
    src: string,
    format: ImageFormat,
    meta: NewImage,
    opts: { move?: boolean; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<ImageMeta> {
    const tmp = join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    mkdirSync(tmp, { mode: 0o700 });
    try {
      const target = join(tmp, `image.${format}`);
      let id: string;
      if (opts.move) {
        renameSync(src, target);
        id = (await hashFile(target, ['sha256'], opts.onProgress)).sha256;
      } else {
        id = await copyHashed(src, target, opts.onProgress);
      }
      const final = join(this.dir, id);
      if (existsSync(final)) return this.merge(this.resolve(id), meta);
      const info = await this.img.info(target, format === 'iso' ? 'raw' : format);
      const record = ImageMeta.parse({
        ...meta,
        id,
        virtualSize: info['virtual-size'],
        fileSize: statSync(target).size,
        addedAt: new Date().toISOString(),
      });
      writeFileAtomic(join(tmp, 'meta.json'), JSON.stringify(record, null, 2) + '\n', 0o644);
      // Read-only on disk too: overlays rely on it never changing.
      chmodSync(target, 0o444);
      try {
        renameSync(tmp, final);
      } catch (err) {
        // The same bytes were added at the same moment by another call: that one is the image.
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST') return this.merge(this.resolve(id), meta);
        throw err;
      }
      return record;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /**
   * The same bytes came again (a pull of an image that was added from a file, say): the record
   * keeps its name and gains what it did not know (the catalog entry, the verified digest, the OS).
   */
  private merge(existing: ImageMeta, more: NewImage): ImageMeta {
    const merged = ImageMeta.parse({
      ...existing,
      os: existing.os ?? more.os,
      catalogId: existing.catalogId ?? more.catalogId,
      defaultUser: existing.defaultUser ?? more.defaultUser,
      serialConsole: existing.serialConsole ?? more.serialConsole,
      // A verification against a signed list outranks one against an unsigned list.
      source: {
        ...existing.source,
        verified: existing.source.verified?.signed
          ? existing.source.verified
          : (more.source.verified ?? existing.source.verified),
      },
    });
    if (JSON.stringify(merged) !== JSON.stringify(existing))
      writeFileAtomic(
        join(this.dir, existing.id, 'meta.json'),
        JSON.stringify(merged, null, 2) + '\n',
        0o644,
      );
    return merged;
  }

  remove(meta: ImageMeta): void {
    const dir = join(this.dir, meta.id);
    // Renamed first, so a crash mid-delete leaves a `.tmp-` folder that cleanup removes.
    const doomed = join(this.dir, `.tmp-rm-${basename(dir)}`);
    renameSync(dir, doomed);
    rmSync(doomed, { recursive: true, force: true });
  }

  async verify(meta: ImageMeta, onProgress?: (done: number, total: number) => void): Promise<string> {
    const path = this.file(meta);
    if (!existsSync(path)) return 'missing';
    return (await hashFile(path, ['sha256'], onProgress)).sha256;
  }
}
