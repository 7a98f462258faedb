// The NoCloud seed: an ISO 9660 image with Joliet and the volume label "cidata" holding
// user-data, meta-data and (when given) network-config, made with xorriso. It is attached as a
// read-only virtio disk, since Debian's cloud kernel cannot see a SATA CD-ROM on q35 (facts.md).
// The user's extra user-data and network-config are kept beside it (cidata/), so the seed can be
// written again for a clone or a reseed.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HangarError } from '../../../shared/errors';
import type { CloudInit, Disk, VmConfig } from '../../../shared/vm';
import { checkExtraUserData, checkNetworkConfig, hostnameFor, metaData, userData } from './user-data';
import { newInstanceId } from './plan';

const run = promisify(execFile);

export const SEED_FILE = 'cidata.iso';
export const SEED_DIR = 'cidata';
export const SEED_DISK_ID = 'seed';
const EXTRA = 'user-data.extra';
const NETWORK = 'network-config';

/** The seed as a disk of the VM: read-only, raw, owned, on virtio. */
export function seedDisk(): Disk {
  return {
    id: SEED_DISK_ID,
    owned: true,
    file: SEED_FILE,
    format: 'raw',
    bus: 'virtio',
    readOnly: true,
    cache: 'writeback',
    discard: false,
  };
}

/** Keeps the user's extra files beside the seed, checked first. */
export function saveSeedInputs(vmDir: string, extra: string | null, network: string | null): void {
  const dir = join(vmDir, SEED_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (extra !== null) {
    checkExtraUserData(extra);
    writeFileSync(join(dir, EXTRA), extra, { mode: 0o600 });
  }
  if (network !== null) {
    checkNetworkConfig(network);
    writeFileSync(join(dir, NETWORK), network, { mode: 0o600 });
  }
}

/** The network-config the VM's seed was made with, or null for cloud-init's default. */
export function readSeedNetwork(vmDir: string): string | null {
  const p = join(vmDir, SEED_DIR, NETWORK);
  return existsSync(p) ? readFileSync(p, 'utf8') : null;
}

export function removeSeedNetwork(vmDir: string): void {
  rmSync(join(vmDir, SEED_DIR, NETWORK), { force: true });
}

/** Copies a VM's seed inputs to a new VM's directory (clones get their own seed). */
export function copySeedInputs(fromDir: string, toDir: string): void {
  const read = (f: string) => {
    const p = join(fromDir, SEED_DIR, f);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  };
  saveSeedInputs(toDir, read(EXTRA), read(NETWORK));
}

/** Writes cidata.iso in `vmDir` from the config and the kept inputs, replacing it in one rename. */
export async function writeSeed(vmDir: string, ci: CloudInit): Promise<void> {
  const kept = join(vmDir, SEED_DIR);
  const extraText = existsSync(join(kept, EXTRA)) ? readFileSync(join(kept, EXTRA), 'utf8') : null;
  const network = existsSync(join(kept, NETWORK)) ? readFileSync(join(kept, NETWORK), 'utf8') : null;
  const stage = mkdtempSync(join(vmDir, '.seed-'));
  try {
    const files = join(stage, 'files');
    mkdirSync(files);
    writeFileSync(join(files, 'user-data'), userData(ci, extraText ? checkExtraUserData(extraText) : null));
    writeFileSync(join(files, 'meta-data'), metaData(ci));
    if (network) writeFileSync(join(files, 'network-config'), network);
    const iso = join(stage, SEED_FILE);
    try {
      await run('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'cidata', '-J', '-r', '-o', iso, files]);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT')
        throw new HangarError(
          'UNSUPPORTED',
          'Making a cloud-init seed needs xorriso: sudo apt-get install xorriso.',
        );
      throw new HangarError(
        'IO_ERROR',
        `xorriso could not write the cloud-init seed: ${e.stderr ?? e.message}`,
      );
    }
    renameSync(iso, join(vmDir, SEED_FILE));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * A clone of a cloud-image VM is a new instance: a new instance-id (so cloud-init runs in it
 * once, with the new hostname), a new host port for SSH, and its own seed in its own directory.
 */
export async function cloneSeed(
  clone: VmConfig,
  fromDir: string,
  toDir: string,
  sshPort: number,
): Promise<VmConfig> {
  if (!clone.cloudInit) return clone;
  const old = clone.cloudInit.sshPort;
  const cloudInit = {
    ...clone.cloudInit,
    instanceId: newInstanceId(),
    hostname: hostnameFor(clone.name, clone.id),
    sshPort,
  };
  const nics = clone.nics.map((n) => ({
    ...n,
    portForwards: n.portForwards.map((f) =>
      f.guestPort === 22 && f.hostPort === old ? { ...f, hostPort: sshPort } : f,
    ),
  }));
  // The seed is the clone's own file, never the source's (a linked clone shares read-only disks).
  const disks = clone.disks.map((d) => (d.id === SEED_DISK_ID ? seedDisk() : d));
  const next = { ...clone, cloudInit, nics, disks };
  copySeedInputs(fromDir, toDir);
  await writeSeed(toDir, cloudInit);
  return next;
}
