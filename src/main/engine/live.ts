// Things done to a running VM's devices over QMP: CD-ROM media, keys, screenshots and the
// human monitor. Media changes are also written to vm.json, so they survive a restart.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { VmConfig } from '../../shared/vm';
import { HangarError } from '../../shared/errors';
import type { EngineContext } from './context';
import { externalIso } from './vms/external';
import { QmpCommandError } from './qmp';
import { textToKeys } from './keys';
import { LAST_FRAME_FILE } from './config/filenames';
import { writeFileAtomic } from './config/atomic';

function isRunning(engine: EngineContext, id: string): boolean {
  const s = engine.runtime(id).state;
  return s === 'running' || s === 'paused';
}

function cdrom(config: VmConfig, drive?: string) {
  const cd = drive ? config.cdroms.find((c) => c.id === drive) : config.cdroms[0];
  if (!cd)
    throw new HangarError(
      'NOT_FOUND',
      `"${config.name}" has no CD-ROM drive${drive ? ` named ${drive}` : ''}.`,
    );
  return cd;
}

export async function insertMedia(
  engine: EngineContext,
  ref: string,
  iso: string,
  drive?: string,
): Promise<VmConfig> {
  return engine.withVm(ref, 'media', async (config) => {
    const cd = cdrom(config, drive);
    iso = externalIso(engine.policy, iso);
    if (isRunning(engine, config.id)) {
      await engine.qmp(config.id).execute('blockdev-change-medium', {
        id: cd.id,
        filename: iso,
        format: 'raw',
        'read-only-mode': 'read-only',
      });
    }
    return saveMedia(engine, config, cd.id, iso);
  });
}

export async function ejectMedia(engine: EngineContext, ref: string, drive?: string): Promise<VmConfig> {
  return engine.withVm(ref, 'media', async (config) => {
    const cd = cdrom(config, drive);
    // force: the guest may have locked the tray; the user asked for the disc to come out.
    if (isRunning(engine, config.id))
      await engine.qmp(config.id).execute('eject', { id: cd.id, force: true });
    return saveMedia(engine, config, cd.id, null);
  });
}

function saveMedia(engine: EngineContext, config: VmConfig, drive: string, media: string | null): VmConfig {
  const fresh = engine.store.load(config.id);
  const saved = engine.store.save({
    ...fresh,
    cdroms: fresh.cdroms.map((c) => (c.id === drive ? { ...c, media } : c)),
  });
  engine.emit('config', { id: saved.id, config: saved });
  return saved;
}

/** "ctrl-alt-delete" -> QEMU key codes; each combination is pressed together, then released. */
export function parseKeys(combo: string): string[] {
  const keys = combo.toLowerCase().split(/[-+]/).filter(Boolean);
  const alias: Record<string, string> = {
    del: 'delete',
    enter: 'ret',
    return: 'ret',
    escape: 'esc',
    win: 'meta_l',
    super: 'meta_l',
  };
  if (!keys.length || keys.some((k) => !/^[a-z0-9_]{1,20}$/.test(k))) {
    throw new HangarError(
      'INVALID_INPUT',
      `"${combo}" is not a key combination; write it like ctrl-alt-delete or alt-f2.`,
    );
  }
  return keys.map((k) => alias[k] ?? k);
}

export async function sendKeys(engine: EngineContext, ref: string, combo: string): Promise<void> {
  const keys = parseKeys(combo);
  try {
    await engine.qmp(ref).execute('send-key', { keys: keys.map((k) => ({ type: 'qcode', data: k })) });
  } catch (err) {
    if (err instanceof QmpCommandError)
      throw new HangarError('INVALID_INPUT', `QEMU refused the keys "${combo}": ${err.desc}`);
    throw err;
  }
}

/**
 * The screen as PNG bytes. QEMU writes into the VM's private runtime dir, never to a path a
 * client chose; the file is read back and removed.
 */
export async function screenshotPng(engine: EngineContext, ref: string): Promise<Buffer> {
  const config = engine.resolve(ref);
  const tmp = join(
    engine.paths(config.id).runDir,
    `screen-${process.pid}-${randomBytes(4).toString('hex')}.png`,
  );
  try {
    await engine.qmp(config.id).execute('screendump', { filename: tmp, format: 'png' });
    const png = readFileSync(tmp);
    keepLastFrame(engine, config.id, png);
    return png;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** When each VM's frame was last written, so the cards' polling writes one every 20 s at most. */
const frameWritten = new Map<string, number>();
const FRAME_EVERY_MS = 20_000;

function keepLastFrame(engine: EngineContext, id: string, png: Buffer): void {
  const file = join(engine.paths(id).vmDir, LAST_FRAME_FILE);
  const now = Date.now();
  if (now - (frameWritten.get(file) ?? 0) < FRAME_EVERY_MS) return;
  frameWritten.set(file, now);
  try {
    writeFileAtomic(file, png);
  } catch {
    // Only a picture for the card: a full disk or a VM deleted meanwhile loses nothing.
  }
}

/** The last frame kept for a VM, or nulls when it never ran with a screen to capture. */
export function lastFrame(engine: EngineContext, ref: string): { png: string | null; at: string | null } {
  const file = join(engine.paths(engine.resolve(ref).id).vmDir, LAST_FRAME_FILE);
  try {
    const at = statSync(file).mtime.toISOString();
    return { png: readFileSync(file).toString('base64'), at };
  } catch {
    return { png: null, at: null };
  }
}

/** Types text into the guest as key presses, one after another. */
export async function typeText(engine: EngineContext, ref: string, text: string): Promise<void> {
  const presses = textToKeys(text);
  const qmp = engine.qmp(ref);
  for (const keys of presses) {
    await qmp.execute('send-key', { keys: keys.map((k) => ({ type: 'qcode', data: k })), 'hold-time': 20 });
  }
}

/** QEMU's human monitor, for power users; the text is QEMU's own output. */
export async function monitor(engine: EngineContext, ref: string, commandLine: string): Promise<string> {
  if (commandLine.length > 4096)
    throw new HangarError('INVALID_INPUT', 'Monitor commands are limited to 4096 characters.');
  return engine.qmp(ref).execute<string>('human-monitor-command', { 'command-line': commandLine });
}
