// A stopped VM's disks opened in a QEMU that runs no guest (-machine none), for its backup.
// Why not qemu-img: the dirty bitmaps that make an incremental live in the images and are read,
// used and advanced through QMP; with the disks open in a QEMU of their own, a stopped VM's
// backup is the very transaction a running VM's is (live.ts), full or incremental, on one chain.
// The disks are opened exactly as the VM's own QEMU opens them (diskArgs: the same node names,
// the same pinned backing files), and the QEMU is asked to quit, never killed, when done: only a
// clean close stores the bitmaps back into the images.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { diskPath } from '../qemu/argv';
import { BusAllocator, diskArgs } from '../qemu/devices';
import { json, opts } from '../qemu/escape';
import { QmpClient } from '../qmp';
import type { VmPaths } from '../config/paths';
import { spawnPrivate } from '../supervisor/private';

/** The -blockdev arguments of the VM's writable disks, and of its UEFI variables when asked. */
function blockdevs(config: VmConfig, vmDir: string, varsFile: string | null): string[] {
  const out: string[] = [];
  for (const d of config.disks.filter((x) => !x.readOnly)) {
    const args = diskArgs(d, diskPath(config, d, vmDir), undefined, new BusAllocator(false));
    for (let i = 0; i < args.length - 1; i++)
      if (args[i] === '-blockdev') out.push('-blockdev', args[i + 1]!);
  }
  if (varsFile) {
    out.push('-blockdev', json({ driver: 'file', filename: varsFile, 'node-name': 'fw-vars-file' }));
    out.push('-blockdev', json({ driver: 'qcow2', file: 'fw-vars-file', 'node-name': 'fw-vars' }));
  }
  return out;
}

/** Its -pidfile, by which an engine finds one an earlier engine left running (Engine.adoptAll). */
export function diskQemuPidFile(paths: VmPaths): string {
  return join(paths.runDir, 'backup-qemu.pid');
}

export async function withDiskQemu<T>(
  engine: EngineContext,
  config: VmConfig,
  withVars: boolean,
  fn: (qmp: QmpClient) => Promise<T>,
): Promise<T> {
  const paths = engine.paths(config.id);
  mkdirSync(paths.runDir, { recursive: true, mode: 0o700 });
  const socket = join(paths.runDir, 'backup-qmp.sock');
  rmSync(socket, { force: true });
  const argv = [
    '-machine',
    'none',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-chardev',
    opts('socket', { id: 'qmp', path: socket, server: true, wait: false }),
    '-mon',
    'chardev=qmp,mode=control',
    '-sandbox',
    'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
    '-pidfile',
    diskQemuPidFile(paths),
    ...blockdevs(config, paths.vmDir, withVars ? paths.varsFile : null),
  ];
  const child = spawnPrivate(engine.host.qemu.path, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  const abort = new AbortController();
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(-1));
  });
  void exited.then(() => abort.abort());
  const qmp = new QmpClient(socket);
  try {
    try {
      await qmp.connect({ timeoutMs: 10_000, retryForMs: 30_000, signal: abort.signal });
    } catch (err) {
      const code = abort.signal.aborted ? await exited : null;
      throw new HangarError(
        'QEMU_FAILED',
        `QEMU could not open the disks of "${config.name}" for the backup${code === null ? '' : ` (exit ${code})`}: ${stderr.trim() || (err as Error).message}`,
      );
    }
    return await fn(qmp);
  } finally {
    if (qmp.state === 'ready') await qmp.execute('quit').catch(() => undefined);
    await qmp.close();
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
    rmSync(socket, { force: true });
    rmSync(diskQemuPidFile(paths), { force: true });
  }
}
