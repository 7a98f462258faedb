// What osinfo-db says an OS wants, applied to a new VM where the request leaves a field open:
// the OS family's profile (devices), recommended CPUs and memory (within the host's means), and
// UEFI for an OS that only boots with it. CPUs, memory and firmware the user gave win; the family
// follows the variant (a variant is more precise than a family).
import { HangarError } from '../../../shared/errors';
import type { HostInfo } from '../../../shared/host';
import type { CreateVmParsed } from '../../../shared/requests';
import type { OsType } from '../../../shared/vm';
import { findOs, type OsinfoOs } from './osinfo';

export function osTypeOf(os: OsinfoOs): OsType {
  if (os.family === 'winnt' || os.family === 'win9x')
    return /win11|2022|2025/.test(os.shortId) ? 'windows11' : 'windows10';
  if (os.family === 'linux') return 'linux';
  if (/bsd/.test(os.family ?? '') || /bsd/.test(os.shortId)) return 'bsd';
  return 'other';
}

export function lookupOs(shortId: string): OsinfoOs {
  const os = findOs(shortId);
  if (!os)
    throw new HangarError(
      'INVALID_INPUT',
      `osinfo-db knows no OS "${shortId}"; find its short-id with hangar os search WORDS.`,
    );
  return os;
}

export function withOsDefaults(req: CreateVmParsed, os: OsinfoOs, host: HostInfo): CreateVmParsed {
  const memory = os.recommended.memoryMiB ?? os.minimum.memoryMiB;
  const cpus = os.recommended.cpus ?? os.minimum.cpus;
  return {
    ...req,
    osType: osTypeOf(os),
    cpus: req.cpus ?? (cpus ? Math.min(cpus, host.hostCpus) : undefined),
    // Half the host at most: a default must never be what makes a VM fail to start.
    memoryMiB: req.memoryMiB ?? (memory ? Math.min(memory, Math.floor(host.hostMemoryMiB / 2)) : undefined),
    firmware:
      req.firmware ?? (os.firmware.includes('efi') && !os.firmware.includes('bios') ? 'uefi' : undefined),
  };
}
