// Turns an import plan (import.ts) into a VM in the store: the backing chains the XML names are
// checked against the images' own headers (and must be confirmed like any other chain), disks to
// copy are converted into the VM's directory, a UEFI VM gets a fresh variable store, and the VM is
// published whole, like a created one (a failure leaves nothing behind).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HostInfo } from '../../../shared/host';
import type { BackingLink, VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import type { ConfigStore } from '../config/store';
import { VARS_FILE } from '../config/filenames';
import type { QemuImg } from '../storage/qemu-img';
import type { PathPolicy } from '../policy/paths';
import { backingChain, describeChain, requireConfirmedChain } from '../policy/chain';
import { createVarsStore } from '../vms/create';
import type { ImportPlan } from './import';

export interface ImportContext {
  store: ConfigStore;
  host: HostInfo;
  img: QemuImg;
  policy: PathPolicy;
  onProgress?: (percent: number, step: string) => void;
}

/** Confirmed backing chains, by the image's real path (real paths, nearest first). */
export type ConfirmedChains = Record<string, string[]>;

async function checkChain(
  ctx: ImportContext,
  path: string,
  format: 'qcow2' | 'raw',
  named: BackingLink[],
  confirmed: ConfirmedChains,
): Promise<void> {
  const header = await backingChain(ctx.img, ctx.policy, path, format);
  const same =
    header.length === named.length &&
    header.every((l, i) => l.path === named[i]!.path && l.format === named[i]!.format);
  if (!same)
    throw new HangarError(
      'CONFLICT',
      `The domain XML says ${path} is built on ${named.length ? describeChain(named) : 'nothing'}, but its ` +
        `header names ${header.length ? describeChain(header) : 'nothing'}. Hangar uses neither until they agree.`,
      { path, named, header },
    );
  requireConfirmedChain(path, header, confirmed[path]);
}

export async function createFromPlan(
  plan: ImportPlan,
  ctx: ImportContext,
  confirmed: ConfirmedChains = {},
): Promise<VmConfig> {
  const config = plan.config;
  for (const d of config.disks)
    if (!d.owned && !d.blockDevice) await checkChain(ctx, d.path, d.format, d.backingChain, confirmed);
  for (const c of plan.copies) await checkChain(ctx, c.from, c.format, c.backingChain, confirmed);
  const dir = ctx.store.stage(config.id);
  try {
    for (const [i, c] of plan.copies.entries()) {
      const step = `copying ${c.from}`;
      await ctx.img.convert(
        { path: c.from, format: c.format },
        { path: join(dir, c.file), format: c.format },
        (p) => ctx.onProgress?.(Math.round(((i + p / 100) / plan.copies.length) * 90), step),
      );
    }
    if (config.firmware !== 'bios') await createVarsStore(config, ctx, join(dir, VARS_FILE));
    const made = ctx.store.publish(config, dir);
    ctx.onProgress?.(100, 'done');
    return made;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
