// Host files given to a VM from outside the engine: an existing disk image (used in place or
// copied in), an ISO, a kernel and initrd for direct boot. All of them pass the host-path policy
// and are recorded by their real path; a disk's format is recorded once and never guessed again.
import type { z } from 'zod';
import type { ExistingDisk } from '../../../shared/requests';
import type { BackingLink, DirectBoot } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import type { ConfigStore } from '../config/store';
import type { QemuImg } from '../storage/qemu-img';
import { checkHostPath, type PathPolicy, type PathUse } from '../policy/paths';
import { backingChain, requireConfirmedChain } from '../policy/chain';
import { sniffFormat } from '../images/sniff';

export interface ExternalContext {
  img: QemuImg;
  policy: PathPolicy;
  store: ConfigStore;
}

export interface ExternalImage {
  path: string;
  format: 'qcow2' | 'raw';
  backingChain: BackingLink[];
  blockDevice: boolean;
}

/**
 * The format another VM recorded for the same file. Such a file may have been written by a
 * guest, and a guest can write anything, a qcow2 header included: its content must never decide.
 */
function recordedFormat(store: ConfigStore, real: string): 'qcow2' | 'raw' | null {
  for (const e of store.list()) {
    if (!e.ok) continue;
    for (const d of e.config.disks) if (!d.owned && d.path === real) return d.format;
  }
  return null;
}

/** Reads a format from a header the user picked; only qcow2 and raw are accepted. */
async function probeFormat(img: QemuImg, path: string): Promise<'qcow2' | 'raw'> {
  const info = await img.info(path);
  if (info.format !== 'qcow2' && info.format !== 'raw') {
    throw new HangarError(
      'UNSUPPORTED',
      `${path} is a ${info.format} image; convert it to qcow2 first (qemu-img convert -O qcow2).`,
    );
  }
  return info.format;
}

export async function externalImage(
  ctx: ExternalContext,
  req: z.output<typeof ExistingDisk>,
): Promise<ExternalImage> {
  const checked = checkHostPath(ctx.policy, req.path, 'disk image', { blockDevice: req.blockDevice });
  const known = recordedFormat(ctx.store, checked.path);
  if (req.format && known && req.format !== known) {
    throw new HangarError(
      'CONFLICT',
      `${checked.path} is used by another VM as a ${known} image; it cannot be opened as ${req.format} as well.`,
    );
  }
  const format = req.format ?? known ?? (await probeFormat(ctx.img, checked.path));
  const chain = await backingChain(ctx.img, ctx.policy, checked.path, format);
  requireConfirmedChain(checked.path, chain, req.confirmChain);
  return { path: checked.path, format, backingChain: chain, blockDevice: checked.blockDevice };
}

/** An ISO, kernel or initrd: a regular file outside Hangar's data, by its real path. */
export function externalFile(policy: PathPolicy, path: string, use: PathUse): string {
  return checkHostPath(policy, path, use).path;
}

/**
 * Install media: a file the policy accepts that is also an ISO 9660 or UDF image. Anything else
 * (a text file, a disk image) would start a VM that sits at "no bootable device" while its card
 * says Running, so it is refused with what the file looks like and what to do instead.
 */
export function externalIso(policy: PathPolicy, path: string): string {
  const real = externalFile(policy, path, 'ISO image');
  const format = sniffFormat(real);
  if (format === 'iso') return real;
  const disk = format !== 'raw' && format !== 'ova';
  throw new HangarError(
    'INVALID_INPUT',
    `${path} is not install media (ISO 9660 or UDF): it looks like ${format === 'raw' ? 'raw data' : `a ${format} image`}. ` +
      (disk
        ? 'Use it as a disk instead (hangar create --disk FILE, or Existing disk in the app).'
        : 'Choose an .iso file.'),
    { path, format },
  );
}

export function externalDirectBoot<T extends z.output<typeof DirectBoot> | null>(
  policy: PathPolicy,
  boot: T,
): T {
  if (!boot) return boot;
  return {
    ...boot,
    kernel: externalFile(policy, boot.kernel, 'kernel'),
    ...(boot.initrd ? { initrd: externalFile(policy, boot.initrd, 'initrd') } : {}),
  };
}
