// The libvirt operations as the API and CLI call them (hangar export VM --libvirt, hangar import
// --libvirt FILE | --from URI --domain NAME), on the engine's context.
import { refuseWhileStreaming } from '../backup/instant-guard';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import type { EngineContext } from '../context';
import { checkHostPath } from '../policy/paths';
import { parseConfig } from '../config/store';
import type { UserNet } from './devices';
import { exportNvram } from './define';
import { exportDomain, type ExportResult } from './export';
import { importDomain } from './import';
import { createFromPlan, type ConfirmedChains } from './create';
import { SshMux, sshDir } from '../hosts/ssh';
import { Virsh } from './virsh';
import { MAX_DOMAIN_XML } from './xml';

export interface ExportLibvirtOptions {
  /** Default: kvm when this host uses KVM, qemu (TCG) otherwise. */
  domainType?: 'kvm' | 'qemu';
  userNet?: UserNet;
  name?: string;
  /** Write the UEFI variables here as a raw file and point the domain's <nvram> at it. */
  nvramFile?: string;
  serialLog?: string;
}

export async function exportLibvirt(
  ctx: EngineContext,
  ref: string,
  opts: ExportLibvirtOptions = {},
): Promise<ExportResult> {
  const vm = ctx.resolve(ref);
  // The domain would name disks that still read from the backup, which libvirt never streams.
  refuseWhileStreaming(vm, 'Export it to libvirt');
  const vmDir = ctx.paths(vm.id).vmDir;
  const domainType = opts.domainType ?? (ctx.host.accel === 'kvm' ? 'kvm' : 'qemu');
  let nvram: { path: string; carried: boolean } | undefined;
  if (opts.nvramFile && vm.firmware !== 'bios') {
    // A running VM writes its variables; a copy taken then could be torn.
    await ctx.withVm(vm.id, 'export UEFI variables', async (config) => {
      ctx.requireStopped(config, 'export its UEFI variables');
      await exportNvram(ctx.img, vmDir, opts.nvramFile!);
    });
    nvram = { path: opts.nvramFile, carried: true };
  }
  return exportDomain(vm, {
    vmDir,
    domainType,
    ...(opts.userNet ? { userNet: opts.userNet } : {}),
    ...(opts.name ? { name: opts.name } : {}),
    ...(nvram ? { nvram } : {}),
    ...(opts.serialLog ? { serialLog: opts.serialLog } : {}),
  });
}

export type ImportSource = { xml: string } | { file: string } | { uri: string; domain: string };

export interface ImportLibvirtOptions {
  copyDisks?: boolean;
  blockDevices?: boolean;
  /** Backing chains the user confirmed, by image path. */
  confirmedChains?: ConfirmedChains;
  /** A name for the new VM instead of the domain's. */
  name?: string;
}

/** Reads at most the bound (and one byte more, to know it was exceeded). */
function readBounded(path: string): string {
  const fd = openSync(path, 'r');
  try {
    if (fstatSync(fd).size > MAX_DOMAIN_XML)
      throw new HangarError(
        'INVALID_INPUT',
        `${path} is larger than ${MAX_DOMAIN_XML / 1024} KiB; not a domain XML.`,
      );
    const buf = Buffer.alloc(MAX_DOMAIN_XML + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

async function sourceXml(ctx: EngineContext, source: ImportSource): Promise<string> {
  if ('xml' in source) return source.xml;
  if ('file' in source) return readBounded(checkHostPath(ctx.policy, source.file, 'file to import').path);
  // The inactive definition: what the domain is, not what libvirt filled in for this run.
  const connect = new SshMux(sshDir(ctx.home, ctx.env)).connectUri(source.uri);
  return new Virsh({ uri: source.uri, connect }).dumpxml(source.domain, true);
}

export async function importLibvirt(
  ctx: EngineContext,
  source: ImportSource,
  opts: ImportLibvirtOptions = {},
): Promise<{ vm: VmConfig; dropped: string[] }> {
  const xml = await sourceXml(ctx, source);
  const plan = importDomain(xml, {
    policy: ctx.policy,
    copyDisks: opts.copyDisks ?? false,
    blockDevices: opts.blockDevices ?? false,
  });
  if (opts.name) plan.config = parseConfig({ ...plan.config, name: opts.name });
  const id = plan.config.id;
  try {
    const vm = await createFromPlan(
      plan,
      {
        store: ctx.store,
        host: ctx.host,
        img: ctx.img,
        policy: ctx.policy,
        onProgress: (p, step) => ctx.progress(id, 'import', p, step),
      },
      opts.confirmedChains ?? {},
    );
    ctx.endProgress(id, 'import', false);
    return { vm, dropped: plan.dropped };
  } catch (err) {
    ctx.endProgress(id, 'import', true);
    throw err;
  }
}
