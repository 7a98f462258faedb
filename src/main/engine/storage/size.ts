// Disk sizes as people type them ("20G", "512M", "1.5T", "1073741824"), checked before any
// qemu-img call so a typo never becomes a 0-byte or 8-exabyte image.
import { HangarError } from '../../../shared/errors';

const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
export const MIN_DISK_BYTES = 1 << 20;
export const MAX_DISK_BYTES = 64 * 2 ** 40;

export function parseSize(input: string | number): number {
  const text = String(input).trim();
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text);
  if (!m) {
    throw new HangarError(
      'INVALID_INPUT',
      `"${text}" is not a size: use a number with a unit, like 20G or 512M.`,
    );
  }
  const bytes = Number(m[1]) * UNITS[(m[2] ?? '').toUpperCase()]!;
  if (!Number.isFinite(bytes) || bytes < MIN_DISK_BYTES) {
    throw new HangarError('INVALID_INPUT', `${text} is too small: a disk needs at least 1M.`);
  }
  if (bytes > MAX_DISK_BYTES)
    throw new HangarError('INVALID_INPUT', `${text} is too large: the limit is 64T.`);
  // qcow2 sizes are whole 512-byte sectors; round up so the guest gets at least what was asked.
  return Math.ceil(bytes / 512) * 512;
}

export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['T', 2 ** 40],
    ['G', 2 ** 30],
    ['M', 2 ** 20],
    ['K', 2 ** 10],
  ] as const) {
    if (bytes >= factor) return `${+(bytes / factor).toFixed(1)}${unit}`;
  }
  return `${bytes}B`;
}
