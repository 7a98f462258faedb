// Resizing and converting a VM's disks with the rollback features in mind: an image that other
// images are built on (a template's disk under linked clones, a baseline's base) is never
// changed, and a conversion that would drop snapshots is refused.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Disk, VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { diskPath } from '../qemu/argv';
import { parseSize, formatSize } from '../storage/size';
import { clonesOf } from '../rollback/templates';
import type { EngineContext } from '../context';

function findDisk(config: VmConfig, id: string): Disk {
  const d = config.disks.find((x) => x.id === id);
  if (!d)
    throw new HangarError(
      'NOT_FOUND',
      `"${config.name}" has no disk ${id}; it has ${config.disks.map((x) => x.id).join(', ') || 'none'}.`,
    );
  return d;
}

/** `disk1.raw`, or `disk1-2.raw` and so on when that name is taken. */
export function freeName(dir: string, id: string, ext: string): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? `${id}.${ext}` : `${id}-${n}.${ext}`;
    if (!existsSync(join(dir, name)) && !existsSync(join(dir, `${name}.converting`))) return name;
  }
}

function refuseIfBase(engine: EngineContext, config: VmConfig, what: string): void {
  const clones = config.template ? clonesOf(engine, config.id) : [];
  if (clones.length) {
    throw new HangarError(
      'CONFLICT',
      `Linked clones are built on this template's disks (${clones.join(', ')}); ${what} would corrupt them.`,
    );
  }
}

export async function resizeDisk(
  engine: EngineContext,
  ref: string,
  diskId: string,
  size: string,
  shrink = false,
): Promise<VmConfig> {
  return engine.withVm(ref, 'disk resize', async (config) => {
    const disk = findDisk(config, diskId);
    refuseIfBase(engine, config, 'resizing them');
    const bytes = parseSize(size);
    const path = diskPath(config, disk, engine.paths(config.id).vmDir);
    const rt = engine.runtime(config.id);
    if (rt.state === 'running' || rt.state === 'paused') {
      const current = (await engine.img.info(path, disk.format))['virtual-size'];
      if (bytes < current)
        throw new HangarError(
          'CONFLICT',
          'A running VM\u2019s disk can only grow; stop the VM to shrink it.',
        );
      // Live: the guest sees the new size at once (it still has to grow its filesystem).
      await engine.qmp(config.id).execute('block_resize', { 'node-name': disk.id, size: bytes });
    } else {
      await engine.img.resize(path, disk.format, bytes, { allowShrink: shrink });
    }
    engine.emit('config', { id: config.id, config });
    return config;
  });
}

/** Converts a stopped VM's own disk between raw and qcow2 (raw disks cannot hold snapshots). */
export async function convertDisk(
  engine: EngineContext,
  ref: string,
  diskId: string,
  format: 'qcow2' | 'raw',
): Promise<VmConfig> {
  return engine.withVm(ref, 'disk convert', async (config) => {
    engine.requireStopped(config, 'convert a disk');
    const disk = findDisk(config, diskId);
    if (!disk.owned)
      throw new HangarError(
        'UNSUPPORTED',
        `${diskId} is the external image ${disk.path}; Hangar converts only disks the VM owns.`,
      );
    if (disk.format === format) return config;
    refuseIfBase(engine, config, 'converting them');
    if (config.baseline || config.linkedTo)
      throw new HangarError(
        'CONFLICT',
        'This disk is an overlay (baseline or linked clone); clear the baseline or make the clone independent first.',
      );
    const { vmDir } = engine.paths(config.id);
    const from = join(vmDir, disk.file);
    const info = await engine.img.info(from, disk.format);
    if (info.snapshots?.length) {
      throw new HangarError(
        'CONFLICT',
        `${diskId} holds ${info.snapshots.length} snapshot(s), which a ${format} image cannot keep; delete them first.`,
      );
    }
    // Never over a file that is already there (a disk detached earlier and kept, say).
    const file = freeName(vmDir, disk.id, format);
    const tmp = join(vmDir, `${file}.converting`);
    rmSync(tmp, { force: true });
    await engine.img.convert({ path: from, format: disk.format }, { path: tmp, format }, (p) =>
      engine.progress(
        config.id,
        'disk convert',
        p,
        `converting ${diskId} (${formatSize(info['virtual-size'])})`,
      ),
    );
    renameSync(tmp, join(vmDir, file));
    const saved = engine.store.save({
      ...config,
      disks: config.disks.map((d) => (d.id === diskId ? { ...d, file, format } : d)),
    });
    if (join(vmDir, file) !== from && existsSync(from)) rmSync(from);
    engine.emit('config', { id: saved.id, config: saved });
    return saved;
  });
}
