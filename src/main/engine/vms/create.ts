// Creating a VM: profile defaults, then the files it owns (disk, UEFI variables), then vm.json
// last, all in a staging directory published by one rename, so a failure or a crash halfway
// leaves no half-made VM behind.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OS_PROFILES } from '../../../shared/profiles';
import type { CreateVmParsed } from '../../../shared/requests';
import type { HostInfo } from '../../../shared/host';
import type { Disk, VmConfig } from '../../../shared/vm';
import { VM_SCHEMA_VERSION } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { ConfigStore, newMac, newVmId, parseConfig } from '../config/store';
import { VARS_FILE } from '../config/filenames';
import { QemuImg } from '../storage/qemu-img';
import { formatSize, parseSize } from '../storage/size';
import { planCloudInit } from '../cloudinit/plan';
import { saveSeedInputs, seedDisk, writeSeed } from '../cloudinit/seed';
import { resolveMachine } from '../qemu/argv';
import { selectFirmware } from '../qemu/firmware';
import type { PathPolicy } from '../policy/paths';
import { ImageLibrary } from '../images/library';
import { lookupOs, withOsDefaults } from '../images/os-defaults';
import { findOs } from '../images/osinfo';
import { externalDirectBoot, externalImage, externalIso, type ExternalImage } from './external';

/**
 * Builds the config in memory; nothing touches the disk here. Host paths in `req` have passed
 * the path policy already (createVm), and `external` describes an existing disk used in place.
 */
export function planVm(
  req: CreateVmParsed,
  host: HostInfo,
  now = new Date(),
  external: ExternalImage | null = null,
): VmConfig {
  const p = OS_PROFILES[req.osType];
  const memoryMiB = req.memoryMiB ?? p.memoryMiB;
  if (memoryMiB > host.hostMemoryMiB) {
    throw new HangarError(
      'INVALID_INPUT',
      `${memoryMiB} MiB is more memory than this host has (${host.hostMemoryMiB} MiB).`,
    );
  }
  const cpus = req.cpus ?? Math.min(p.cpus, host.hostCpus);
  if (cpus > host.hostCpus) {
    throw new HangarError('INVALID_INPUT', `${cpus} CPUs is more than this host has (${host.hostCpus}).`);
  }
  const disks: Disk[] = [];
  const bus = req.disk.kind === 'none' ? p.diskBus : (req.disk.bus ?? p.diskBus);
  const common = { id: 'disk0', bus, readOnly: false, cache: 'writeback' as const, discard: true };
  if (req.disk.kind === 'new') {
    parseSize(req.disk.size);
    disks.push({ ...common, owned: true, file: `disk0.${req.disk.format}`, format: req.disk.format });
  } else if (req.disk.kind === 'existing') {
    const format = external?.format ?? req.disk.format ?? 'qcow2';
    disks.push(
      req.disk.copy
        ? { ...common, owned: true, file: `disk0.${format}`, format }
        : {
            ...common,
            owned: false,
            path: external?.path ?? req.disk.path,
            format,
            backingChain: external?.backingChain ?? [],
            blockDevice: external?.blockDevice ?? false,
          },
    );
  }
  const firmware = req.firmware ?? p.firmware;
  const tpm = req.tpm ?? p.tpm;
  if (tpm && !host.swtpm)
    throw new HangarError('UNSUPPORTED', 'A TPM needs swtpm: sudo apt-get install swtpm swtpm-tools.');
  const machine = req.machine ?? 'q35';
  if (firmware !== 'bios') selectFirmware(host.firmware, firmware, resolveMachine(host, machine));
  const hasCdrom = req.iso !== null || req.osType.startsWith('windows');
  const stamp = now.toISOString();
  return parseConfig({
    schemaVersion: VM_SCHEMA_VERSION,
    id: newVmId(),
    name: req.name,
    description: req.description ?? '',
    tags: req.tags ?? [],
    osType: req.osType,
    cpus,
    memoryMiB,
    machine,
    cpuModel: req.cpuModel ?? null,
    firmware,
    tpm,
    disks,
    cdroms: hasCdrom ? [{ id: 'cd0', bus: p.cdromBus, media: req.iso }] : [],
    nics: req.network
      ? [
          {
            id: 'nic0',
            model: p.nicModel,
            mac: newMac(),
            mode: 'user',
            portForwards: req.network.portForwards,
          },
        ]
      : [],
    display: { vga: req.display?.vga ?? p.vga, usbTablet: req.display?.usbTablet ?? p.usbTablet },
    bootOrder: req.bootOrder ?? (req.iso ? ['cdrom', 'disk'] : ['disk', 'cdrom']),
    directBoot: req.directBoot,
    createdAt: stamp,
    updatedAt: stamp,
  });
}

export interface CreateContext {
  store: ConfigStore;
  host: HostInfo;
  img: QemuImg;
  policy: PathPolicy;
  onProgress?: (percent: number, step: string) => void;
  /** For cloud images: where the user's ~/.ssh is (HOME); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

export async function createVm(req: CreateVmParsed, ctx: CreateContext): Promise<VmConfig> {
  // Every host path passes the policy and is used by its real path from here on.
  req = {
    ...req,
    iso: req.iso ? externalIso(ctx.policy, req.iso) : null,
    directBoot: externalDirectBoot(ctx.policy, req.directBoot),
  };
  const base = req.image ? libraryBase(ctx, req.image) : null;
  // The OS variant named, or the one the library image is known to be.
  const variant = req.osVariant ?? base?.os?.shortId ?? undefined;
  const known = variant ? (req.osVariant ? lookupOs(variant) : findOs(variant)) : null;
  if (known) req = withOsDefaults(req, known, ctx.host);
  const os = known ? { shortId: known.shortId, name: known.name } : (base?.os ?? null);
  if (base?.format === 'iso') req = { ...req, iso: base.path };
  // A catalog cloud image is useless without a seed (no password, no key): it always gets one.
  if (base && base.cloudImage && !req.cloudInit) req = { ...req, cloudInit: {} };
  else if (base)
    req = {
      ...req,
      disk: {
        kind: 'new',
        size: base.virtualSize,
        format: 'qcow2',
        preallocation: 'off',
        bus: req.disk.kind === 'none' ? undefined : req.disk.bus,
      },
      bootOrder: req.bootOrder ?? ['disk', 'cdrom'],
    };
  if (req.cloudInit) req = cloudImageRequest(req, base !== null && base.format !== 'iso');
  let external: ExternalImage | null = null;
  if (req.disk.kind === 'existing') {
    external = await externalImage(ctx, req.disk);
    req = { ...req, disk: { ...req.disk, path: external.path, format: external.format } };
  }
  let config = planVm(req, ctx.host, new Date(), external);
  if (os) config = parseConfig({ ...config, os });
  if (req.cloudInit) config = await withCloudInit(config, req.cloudInit, ctx);
  // Assembled under a name no listing shows and published whole (see ConfigStore.stage), so that
  // neither a failure nor a killed engine leaves a VM without its disk behind.
  const dir = ctx.store.stage(config.id);
  try {
    const disk = config.disks[0];
    if (disk?.owned && base && base.format !== 'iso') {
      // The library image stays as it is; the VM writes only its own overlay.
      ctx.onProgress?.(10, 'creating the overlay on the image');
      await ctx.img.create(join(dir, disk.file), {
        format: 'qcow2',
        sizeBytes: 0,
        backing: { path: base.path, format: base.format },
      });
    } else if (disk?.owned && req.disk.kind === 'new') {
      ctx.onProgress?.(10, 'creating disk');
      await ctx.img.create(join(dir, disk.file), {
        format: disk.format,
        sizeBytes: parseSize(req.disk.size),
        preallocation: req.disk.preallocation,
      });
    } else if (disk?.owned && req.disk.kind === 'existing') {
      await ctx.img.convert(
        { path: req.disk.path, format: disk.format },
        { path: join(dir, disk.file), format: disk.format },
        (p) => ctx.onProgress?.(p, 'copying disk'),
      );
    }
    if (disk?.owned && req.diskSize !== undefined)
      await growDisk(ctx.img, join(dir, disk.file), disk.format, req.diskSize);
    if (config.firmware !== 'bios') await createVarsStore(config, ctx, join(dir, VARS_FILE));
    if (config.cloudInit) {
      ctx.onProgress?.(95, 'writing the cloud-init seed');
      saveSeedInputs(dir, req.cloudInit?.userData ?? null, req.cloudInit?.networkConfig ?? null);
      await writeSeed(dir, config.cloudInit);
    }
    const made = ctx.store.publish(config, dir);
    ctx.onProgress?.(100, 'done');
    return made;
  } catch (err) {
    // Only this call made the staging directory, so removing it removes nothing anyone else owns.
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A library image by reference, with its file: used by VMs, never changed by them. */
function libraryBase(ctx: CreateContext, ref: string) {
  const lib = new ImageLibrary(ctx.store.home, ctx.img);
  const meta = lib.resolve(ref);
  return {
    path: lib.file(meta),
    format: meta.format,
    virtualSize: meta.virtualSize,
    cloudImage: meta.defaultUser !== null,
    os: meta.os,
  };
}

/** UEFI variables as qcow2, copied from the firmware's template, so internal snapshots include them. */
export async function createVarsStore(
  config: VmConfig,
  ctx: Pick<CreateContext, 'host' | 'img'>,
  target: string,
): Promise<void> {
  if (existsSync(target)) return;
  const fw = selectFirmware(
    ctx.host.firmware,
    config.firmware as 'uefi' | 'uefi-secure',
    resolveMachine(ctx.host, config.machine),
  );
  await ctx.img.convert(
    { path: fw.varsTemplate.filename, format: fw.varsTemplate.format },
    { path: target, format: 'qcow2' },
  );
}

/**
 * A cloud image is the start of the VM's own disk: always copied in (a downloaded image must
 * stay as it was), never booted from an ISO.
 */
function cloudImageRequest(req: CreateVmParsed, fromLibrary = false): CreateVmParsed {
  if (fromLibrary) {
    if (req.network === null)
      throw new HangarError(
        'INVALID_INPUT',
        'A VM from a cloud image needs its network (ssh, the address); drop --no-network.',
      );
    return { ...req, bootOrder: req.bootOrder ?? ['disk'] };
  }
  if (req.disk.kind !== 'existing')
    throw new HangarError(
      'INVALID_INPUT',
      'A VM from a cloud image needs the image (hangar create --cloud-image FILE).',
    );
  if (req.network === null)
    throw new HangarError(
      'INVALID_INPUT',
      'A VM from a cloud image needs its network (ssh, the address); drop --no-network.',
    );
  return { ...req, disk: { ...req.disk, copy: true }, bootOrder: req.bootOrder ?? ['disk'] };
}

/** The cloud-init settings, the seed disk and the SSH forward added to a planned VM. */
async function withCloudInit(
  config: VmConfig,
  request: NonNullable<CreateVmParsed['cloudInit']>,
  ctx: CreateContext,
): Promise<VmConfig> {
  const ci = await planCloudInit(request, config, ctx.store.home, ctx.env ?? process.env);
  const [nic, ...others] = config.nics;
  const ssh = {
    protocol: 'tcp' as const,
    hostAddress: '127.0.0.1' as const,
    hostPort: ci.sshPort!,
    guestPort: 22,
  };
  return parseConfig({
    ...config,
    cloudInit: ci,
    disks: [...config.disks, seedDisk()],
    nics: nic ? [{ ...nic, portForwards: [...nic.portForwards, ssh] }, ...others] : [],
  });
}

/** Grows a new VM's own disk; a size below the image's is refused, never shrunk. */
async function growDisk(
  img: QemuImg,
  path: string,
  format: 'qcow2' | 'raw',
  size: string | number,
): Promise<void> {
  const bytes = parseSize(size);
  const current = (await img.info(path, format))['virtual-size'];
  if (bytes < current)
    throw new HangarError(
      'INVALID_INPUT',
      `The image is already ${formatSize(current)}; a disk size of ${formatSize(bytes)} would shrink it.`,
    );
  if (bytes > current) await img.resize(path, format, bytes);
}
