// The boot drill: proof that a backup point boots, not only that its bytes are intact. The point
// is restored into a throwaway VM with no network (a restored guest must not reach, or be reached
// by, anything while it is only being checked), started, and watched until its readiness checks
// pass (the guest agent by default, or what the caller names: a serial marker, a port). The screen
// at that moment is kept as evidence in $HANGAR_HOME/drills; the VM is then forced off and deleted,
// whatever happened.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackupDrillResult } from '../../../shared/backup';
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { screenshotPng } from '../live';
import type { CheckName } from '../ready/checks';
import { waitReady } from '../ready/wait';
import { deleteVm } from '../vms/manage';
import { findBackup, repositoryPath } from './repository';
import { restoreBackup } from './restore';

export const DRILLS_DIR = 'drills';

export interface DrillOptions {
  repository?: string | null;
  /** What "booted" means; by default the guest agent answering (cloud-image VMs have one). */
  checks?: CheckName[];
  timeoutMs?: number;
  /** The secret of an encrypted point. */
  key?: Buffer | null;
}

export async function drillBackup(
  engine: EngineContext,
  backupId: string,
  options: DrillOptions = {},
): Promise<BackupDrillResult> {
  const repo = repositoryPath(engine, options.repository);
  const point = findBackup(repo, backupId);
  const hasAgent = Boolean((point.manifest.config as { cloudInit?: unknown }).cloudInit);
  const checks = options.checks?.length ? options.checks : hasAgent ? (['agent'] as CheckName[]) : null;
  if (!checks)
    throw new HangarError(
      'INVALID_INPUT',
      `"${point.manifest.vm.name}" has no guest agent to say it booted: name a check, for example ` +
        '--for serial:TEXT (a line the guest prints when it is up) or --for port:22.',
    );
  const vm = await restoreBackup(engine, backupId, `drill ${point.manifest.vm.name}`.slice(0, 100), {
    repository: options.repository ?? null,
    key: options.key ?? null,
  });
  const started = Date.now();
  try {
    await engine.withVm(vm.id, 'drill setup', async (c) => engine.store.save({ ...c, nics: [] }));
    await engine.start(vm.id);
    let ok = true;
    let detail: string;
    try {
      const r = await waitReady(engine, vm.id, checks, options.timeoutMs ?? 300_000);
      detail = r.checks.map((c) => c.detail).join('; ');
    } catch (err) {
      ok = false;
      detail = (err as Error).message;
    }
    let screenshot: string | null = null;
    try {
      const png = await screenshotPng(engine, vm.id);
      const dir = join(engine.home, DRILLS_DIR);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      screenshot = join(dir, `${backupId}.png`);
      writeFileSync(screenshot, png, { mode: 0o600 });
    } catch {
      // A guest that crashed has no screen to keep; the result says why it failed.
    }
    return {
      backup: backupId,
      ok,
      checks,
      detail,
      screenshot,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    if (!engine.isStopped(vm.id)) await engine.stop(vm.id, { force: true }).catch(() => undefined);
    await deleteVm(engine, vm.id).catch(() => undefined);
  }
}
