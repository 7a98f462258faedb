// Backups of a stopped VM: qemu-img copies each disk (compressed, zstd), and the chain's
// persistent bitmap is added to the disk with qemu-img bitmap, so the next live backup can be an
// incremental on this chain. Formats are always given (-f, -O); nothing is probed.
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { bitmapName, isOurBitmap } from './chain';

const LONG = 6 * 3600_000;

export async function offlineCopy(
  engine: EngineContext,
  copies: { src: string; dst: string }[],
  onProgress: (percent: number) => void,
): Promise<void> {
  for (const [n, c] of copies.entries()) {
    if (!c.src.startsWith('/') || !c.dst.startsWith('/'))
      throw new HangarError('INTERNAL', 'Backup paths must be absolute.');
    await engine.img.run(
      ['convert', '-q', '-f', 'qcow2', '-O', 'qcow2', '-c', '-o', 'compression_type=zstd', c.src, c.dst],
      LONG,
    );
    onProgress(((n + 1) / copies.length) * 100);
  }
}

interface InfoWithBitmaps {
  'format-specific'?: { data?: { bitmaps?: { name: string }[] } };
}

/** Our bitmaps on a stopped VM's disk. */
export async function offlineBitmapNames(engine: EngineContext, path: string): Promise<string[]> {
  const info = (await engine.img.info(path, 'qcow2')) as InfoWithBitmaps;
  return (info['format-specific']?.data?.bitmaps ?? []).map((b) => b.name).filter(isOurBitmap);
}

/** The disks carry the new chain's bitmap, and no other of ours. */
export async function offlineBitmaps(engine: EngineContext, paths: string[], chainId: string): Promise<void> {
  const keep = bitmapName(chainId);
  for (const path of paths) {
    const names = await offlineBitmapNames(engine, path);
    for (const name of names.filter((x) => x !== keep))
      await engine.img.run(['bitmap', '--remove', '-f', 'qcow2', path, name]);
    if (!names.includes(keep)) await engine.img.run(['bitmap', '--add', '-f', 'qcow2', path, keep]);
  }
}
