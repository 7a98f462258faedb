// Adding and removing disks of a stopped VM. A new disk is created in the VM's directory; an
// existing image is attached in place (external). Removing a disk detaches it; the file is
// deleted only when the VM owns it and the caller asks for that.
import { rmSync } from 'node:fs';
import type { BackingLink, Disk, VmConfig } from '../../../shared/vm';
import type { DiskRequest } from '../../../shared/requests';
import { OS_PROFILES } from '../../../shared/profiles';
import { HangarError } from '../../../shared/errors';
import { diskPath } from '../qemu/argv';
import { parseSize } from '../storage/size';
import { externalImage } from './external';
import { dependents } from './dependents';
import { checkHostPath } from '../policy/paths';
import { backingChain } from '../policy/chain';
import type { DiskInfoResult } from '../../../shared/api-types';
import type { EngineContext } from '../context';
import { clonesOf } from '../rollback/templates';

export function nextDiskId(config: VmConfig): string {
  const used = new Set([...config.disks, ...config.cdroms, ...config.nics].map((d) => d.id));
  for (let i = 0; ; i++) if (!used.has(`disk${i}`)) return `disk${i}`;
}

export async function addDisk(
  engine: EngineContext,
  ref: string,
  req: Exclude<DiskRequest, { kind: 'none' }>,
): Promise<VmConfig> {
  return engine.withVm(ref, 'disk add', async (config) => {
    engine.requireStopped(config, 'add a disk');
    const id = nextDiskId(config);
    const bus = req.bus ?? OS_PROFILES[config.osType].diskBus;
    const common = { id, bus, readOnly: false, cache: 'writeback' as const, discard: true };
    let disk: Disk;
    if (req.kind === 'new') {
      disk = { ...common, owned: true, file: `${id}.${req.format}`, format: req.format };
      await engine.img.create(diskPath(config, disk, engine.paths(config.id).vmDir), {
        format: req.format,
        sizeBytes: parseSize(req.size),
        preallocation: req.preallocation,
      });
    } else {
      const ext = await externalImage(engine, req);
      const { format } = ext;
      if (req.copy) {
        disk = { ...common, owned: true, file: `${id}.${format}`, format };
        const target = diskPath(config, disk, engine.paths(config.id).vmDir);
        await engine.img.convert({ path: ext.path, format }, { path: target, format }, (p) =>
          engine.progress(config.id, 'disk add', p, 'copying'),
        );
      } else {
        disk = {
          ...common,
          owned: false,
          path: ext.path,
          format,
          backingChain: ext.backingChain,
          blockDevice: ext.blockDevice,
        };
      }
    }
    const saved = engine.store.save({ ...engine.store.load(config.id), disks: [...config.disks, disk] });
    engine.emit('config', { id: saved.id, config: saved });
    return saved;
  });
}

export async function removeDisk(
  engine: EngineContext,
  ref: string,
  diskId: string,
  deleteFile: boolean,
): Promise<{ config: VmConfig; deleted: string | null }> {
  return engine.withVm(ref, 'disk remove', async (config) => {
    engine.requireStopped(config, 'remove a disk');
    // A template's disks are the bases of its linked clones: deleting one breaks them, and even
    // detaching one would leave its file to be removed later as nobody's.
    const clones = config.template ? clonesOf(engine, config.id) : [];
    if (clones.length) {
      throw new HangarError(
        'CONFLICT',
        `Linked clones are built on this template's disks (${clones.join(', ')}); ` +
          'delete them or make them independent first.',
      );
    }
    const disk = config.disks.find((d) => d.id === diskId);
    if (!disk)
      throw new HangarError(
        'NOT_FOUND',
        `"${config.name}" has no disk ${diskId}; it has ${config.disks.map((d) => d.id).join(', ') || 'none'}.`,
      );
    if (deleteFile && !disk.owned) {
      throw new HangarError(
        'INVALID_INPUT',
        `${diskId} is an external image (${disk.path}); Hangar never deletes files a VM does not own.`,
      );
    }
    const file = diskPath(config, disk, engine.paths(config.id).vmDir);
    if (deleteFile) {
      // Another VM's disk may be built on this file (an overlay made by hand, an image attached
      // in place): deleting it would break that VM, so the file stays and the disk too.
      const users = await dependents(engine, config.id, [file], { inPlace: true });
      if (users.length)
        throw new HangarError(
          'CONFLICT',
          `Other VMs use ${file}: ${users.join(', ')}. Detach it without --delete-file, or remove those first.`,
        );
    }
    const saved = engine.store.save({ ...config, disks: config.disks.filter((d) => d.id !== diskId) });
    let deleted: string | null = null;
    if (deleteFile) {
      deleted = file;
      rmSync(deleted, { force: true });
    }
    engine.emit('config', { id: saved.id, config: saved });
    return { config: saved, deleted };
  });
}

/**
 * What the wizard shows about an image the user picked: its header, read under the path policy
 * (never a file of Hangar's own data), with the backing chain it would need confirmed.
 */
export async function diskInfo(engine: EngineContext, path: string): Promise<DiskInfoResult> {
  const real = checkHostPath(engine.policy, path, 'image to inspect').path;
  const info = await engine.img.info(real);
  const format = info.format === 'qcow2' || info.format === 'raw' ? info.format : null;
  let chain: BackingLink[] = [];
  let chainError: string | null = null;
  if (format) {
    try {
      chain = await backingChain(engine.img, engine.policy, real, format);
    } catch (err) {
      chainError = (err as Error).message;
    }
  }
  return {
    format: info.format,
    virtualSize: info['virtual-size'],
    actualSize: info['actual-size'] ?? null,
    backingFile: info['full-backing-filename'] ?? info['backing-filename'] ?? null,
    backingChain: chain,
    backingChainError: chainError,
    snapshots: info.snapshots?.length ?? 0,
  };
}
