// Defining a Hangar VM on a libvirt host: export, check against libvirt's schema, define. Where
// the host's libvirt refuses the passt backend (Debian 12's libvirt 9.0 accepts it in its schema
// but not when defining: "Invalid value for attribute 'type' in element 'backend': 'passt'"), the
// user-mode NICs fall back to libvirt's built-in SLIRP, and the port forwards that costs are
// listed in `dropped` like everything else.
import { join } from 'node:path';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { VARS_FILE } from '../config/filenames';
import type { QemuImg } from '../storage/qemu-img';
import { exportDomain, type ExportOptions, type ExportResult } from './export';
import type { UserNet } from './devices';
import { validateDomainXml, type Virsh } from './virsh';

export interface DefineResult extends ExportResult {
  userNet: UserNet;
}

export function passtRefused(err: unknown): boolean {
  return (
    err instanceof HangarError &&
    /element 'backend'.*passt|passt.*not supported|passt.*(not found|No such file)/i.test(err.message)
  );
}

export async function defineVm(virsh: Virsh, vm: VmConfig, opts: ExportOptions): Promise<DefineResult> {
  const userNet = opts.userNet ?? 'passt';
  const result = exportDomain(vm, { ...opts, userNet });
  await validateDomainXml(result.xml);
  try {
    await virsh.define(result.xml);
    return { ...result, userNet };
  } catch (err) {
    const usesPasst = userNet === 'passt' && vm.nics.some((n) => n.mode === 'user');
    if (!usesPasst || !passtRefused(err)) throw err;
  }
  const fallback = exportDomain(vm, { ...opts, userNet: 'slirp' });
  await validateDomainXml(fallback.xml);
  await virsh.define(fallback.xml);
  fallback.dropped.unshift(
    `libvirt at ${virsh.uri} refuses the passt backend (libvirt before 9.x, or passt not installed); ` +
      "user-mode NICs use libvirt's built-in SLIRP instead.",
  );
  return { ...fallback, userNet: 'slirp' };
}

/**
 * Hangar keeps UEFI variables as qcow2 (so internal snapshots include them); libvirt 9 wants a
 * raw NVRAM file. Converting carries boot entries and enrolled keys over; pass the target as
 * ExportOptions.nvram = { path: target, carried: true }.
 */
export async function exportNvram(img: QemuImg, vmDir: string, target: string): Promise<void> {
  await img.convert({ path: join(vmDir, VARS_FILE), format: 'qcow2' }, { path: target, format: 'raw' });
}
