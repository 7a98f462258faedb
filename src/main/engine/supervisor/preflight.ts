// Checks made before QEMU is spawned, so the common mistakes get a message that names the fix
// instead of QEMU's one-line complaint.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { statSync } from 'node:fs';
import type { VmConfig } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { diskPath } from '../qemu/argv';
import { recheckRecorded, type PathPolicy } from '../policy/paths';
import { qcow2HasDataFile } from '../storage/qcow2-header';

function portFree(protocol: 'tcp' | 'udp', address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'tcp') {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen({ host: address, port, exclusive: true }, () => srv.close(() => resolve(true)));
    } else {
      const sock = createSocket('udp4');
      sock.once('error', () => resolve(false));
      sock.bind({ address, port, exclusive: true }, () => sock.close(() => resolve(true)));
    }
  });
}

export async function checkPorts(vm: VmConfig): Promise<void> {
  for (const f of vm.nics.flatMap((n) => n.portForwards)) {
    if (!(await portFree(f.protocol, f.hostAddress, f.hostPort))) {
      throw new HangarError(
        'CONFLICT',
        `Host port ${f.hostPort}/${f.protocol} is already in use, so it cannot forward to guest port ${f.guestPort}. ` +
          'Stop what uses it or choose another host port.',
        { port: f.hostPort, protocol: f.protocol },
      );
    }
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function checkFiles(vm: VmConfig, vmDir: string): void {
  for (const d of vm.disks) {
    const p = diskPath(vm, d, vmDir);
    if (!isFile(p)) {
      throw new HangarError(
        'NOT_FOUND',
        `Disk ${d.id} (${p}) is missing. Restore the file or remove the disk from the VM.`,
        { path: p },
      );
    }
  }
  for (const cd of vm.cdroms) {
    if (cd.media && !isFile(cd.media)) {
      throw new HangarError(
        'NOT_FOUND',
        `The ISO ${cd.media} in ${cd.id} is missing. Insert another or eject it.`,
        { path: cd.media },
      );
    }
  }
  if (vm.directBoot && !isFile(vm.directBoot.kernel)) {
    throw new HangarError('NOT_FOUND', `The kernel ${vm.directBoot.kernel} for direct boot is missing.`);
  }
  if (vm.directBoot?.initrd && !isFile(vm.directBoot.initrd)) {
    throw new HangarError('NOT_FOUND', `The initrd ${vm.directBoot.initrd} for direct boot is missing.`);
  }
}

/**
 * The files a VM uses from outside Hangar's data are checked again at every start: a path that
 * has since become a symlink, a FIFO or a device is refused, not followed. Paths inside Hangar's
 * data (a linked clone's read-only disk in its template's folder) were put there by the engine.
 */
export function recheckExternal(vm: VmConfig, policy: PathPolicy): void {
  const outside = (p: string) => !policy.protectedRoots.some((r) => p === r || p.startsWith(`${r}/`));
  for (const d of vm.disks) {
    if (d.owned) continue;
    if (outside(d.path)) recheckRecorded(policy, d.path, 'disk image', d.blockDevice);
    for (const link of d.backingChain)
      if (outside(link.path)) recheckRecorded(policy, link.path, 'disk image');
    // A header rewritten since it was chosen could name a data file QEMU would open read-write.
    for (const file of [d, ...d.backingChain])
      if (
        file.format === 'qcow2' &&
        !('blockDevice' in file && file.blockDevice) &&
        qcow2HasDataFile(file.path)
      )
        throw new HangarError(
          'UNSUPPORTED',
          `${file.path} now keeps its data in another file, which QEMU would open read-write; Hangar does ` +
            'not start a VM on it. Replace it with a standalone copy (qemu-img convert -O qcow2).',
          { path: file.path },
        );
  }
  for (const cd of vm.cdroms)
    if (cd.media && outside(cd.media)) recheckRecorded(policy, cd.media, 'ISO image');
  if (vm.directBoot) {
    if (outside(vm.directBoot.kernel)) recheckRecorded(policy, vm.directBoot.kernel, 'kernel');
    const initrd = vm.directBoot.initrd;
    if (initrd && outside(initrd)) recheckRecorded(policy, initrd, 'initrd');
  }
}

/** QEMU's own words for a disk another process holds, turned into what to do. */
export function explainStartFailure(log: string): string | null {
  if (/Failed to get "write" lock|Failed to get shared "write" lock/.test(log)) {
    return 'A disk of this VM is already open in another QEMU (is the VM, or a clone sharing its disk, running elsewhere?). Stop that one first.';
  }
  if (/Could not access KVM kernel module|failed to initialize kvm/i.test(log)) {
    return 'KVM could not be used; run `hangar probe --fresh`, or set HANGAR_ACCEL=tcg.';
  }
  return null;
}
