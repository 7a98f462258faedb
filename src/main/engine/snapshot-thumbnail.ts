// A picture of the screen at the moment of a snapshot, for the snapshot tree: taken just before a
// running VM's snapshot is saved, kept beside vm.json as snapshot-<id>.png, removed with the
// snapshot. Only a picture: a capture that fails leaves the snapshot without one, nothing more.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './config/atomic';
import type { EngineContext } from './context';
import { screenshotPng } from './live';

/** Hangar's own snapshot ids only (8 lowercase letters and digits), so the name stays a plain file name. */
function file(engine: EngineContext, vmId: string, snapshotId: string): string | null {
  return /^[a-z0-9]{8}$/.test(snapshotId)
    ? join(engine.paths(vmId).vmDir, `snapshot-${snapshotId}.png`)
    : null;
}

/** The screen now, or null (no display, QEMU busy or gone). */
export async function captureScreen(engine: EngineContext, vmId: string): Promise<Buffer | null> {
  try {
    return await screenshotPng(engine, vmId);
  } catch {
    return null;
  }
}

export function keepThumbnail(engine: EngineContext, vmId: string, snapshotId: string, png: Buffer): void {
  const path = file(engine, vmId, snapshotId);
  if (!path) return;
  try {
    writeFileAtomic(path, png);
  } catch {
    // A full disk costs the picture only.
  }
}

export function hasThumbnail(engine: EngineContext, vmId: string, snapshotId: string): boolean {
  const path = file(engine, vmId, snapshotId);
  return path !== null && existsSync(path);
}

export function readThumbnail(engine: EngineContext, vmId: string, snapshotId: string): string | null {
  const path = file(engine, vmId, snapshotId);
  try {
    return path ? readFileSync(path).toString('base64') : null;
  } catch {
    return null;
  }
}

export function dropThumbnail(engine: EngineContext, vmId: string, snapshotId: string): void {
  const path = file(engine, vmId, snapshotId);
  if (path) rmSync(path, { force: true });
}
