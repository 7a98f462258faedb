// The chain's bitmaps on a stopped VM's disk, read with qemu-img (a revert of a stopped VM drops
// them: hooks.ts). Formats are always given; nothing is probed.
import type { EngineContext } from '../context';
import { isOurBitmap } from './chain';

interface InfoWithBitmaps {
  'format-specific'?: { data?: { bitmaps?: { name: string }[] } };
}

/** Our bitmaps on a stopped VM's disk. */
export async function offlineBitmapNames(engine: EngineContext, path: string): Promise<string[]> {
  const info = (await engine.img.info(path, 'qcow2')) as InfoWithBitmaps;
  return (info['format-specific']?.data?.bitmaps ?? []).map((b) => b.name).filter(isOurBitmap);
}
