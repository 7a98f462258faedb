// Chooses the accelerator from evidence, not from /dev/kvm existing: nested hosts expose a KVM
// that is present and permitted yet runs guests dozens of times slower than TCG (see facts.md).
import type { z } from 'zod';
import type { KvmStatus } from '../../../shared/host';

export interface AccelEvidence {
  /** HANGAR_ACCEL, when set: tests and people who know better. */
  forced: 'kvm' | 'tcg' | null;
  devicePresent: boolean;
  /** null when the device is absent; otherwise the open error code, or '' when it opened. */
  openError: string | null;
  /** Milliseconds from spawn to the end of the firmware's self-test; null when it did not finish. */
  tcgPostMs: number | null;
  kvmPostMs: number | null;
  kvmFailure: string | null;
  hostCpuWorks: boolean;
}

export interface AccelDecision {
  accel: 'kvm' | 'tcg';
  reason: string;
  kvm: z.infer<typeof KvmStatus>;
}

/** KVM counts as useful when its firmware POST is no slower than about twice TCG's plus half a second. */
export function kvmFastEnough(kvmMs: number, tcgMs: number): boolean {
  return kvmMs <= 2 * tcgMs + 500;
}

export function decideAccel(e: AccelEvidence): AccelDecision {
  const permitted = e.devicePresent && e.openError === '';
  let usable = false;
  let detail: string;
  if (!e.devicePresent) {
    detail =
      '/dev/kvm does not exist: enable virtualization (VT-x/AMD-V) in the firmware and load the kvm module.';
  } else if (!permitted) {
    detail =
      e.openError === 'EACCES' || e.openError === 'EPERM'
        ? '/dev/kvm is not accessible to you: add yourself to the kvm group (sudo usermod -aG kvm $USER) and log in again.'
        : `/dev/kvm could not be opened (${e.openError}).`;
  } else if (e.forced === 'tcg' && e.kvmPostMs === null && e.kvmFailure === null) {
    detail = 'KVM was not tried because HANGAR_ACCEL=tcg.';
  } else if (e.kvmPostMs === null) {
    detail = `KVM is present but did not run a test guest: ${e.kvmFailure ?? 'no reason given'}.`;
  } else if (e.tcgPostMs !== null && !kvmFastEnough(e.kvmPostMs, e.tcgPostMs)) {
    detail =
      `KVM is present but unusably slow (firmware self-test ${e.kvmPostMs} ms under KVM against ${e.tcgPostMs} ms ` +
      'under TCG); this happens under nested virtualization without hardware support.';
  } else {
    usable = true;
    detail = `KVM works (firmware self-test ${e.kvmPostMs} ms).`;
  }
  const kvm = { present: e.devicePresent, permitted, usable, detail, hostCpuWorks: usable && e.hostCpuWorks };

  if (e.forced === 'tcg') return { accel: 'tcg', reason: 'TCG because HANGAR_ACCEL=tcg. ' + detail, kvm };
  if (e.forced === 'kvm') {
    return {
      accel: 'kvm',
      reason: 'KVM because HANGAR_ACCEL=kvm' + (usable ? '.' : `, although: ${detail}`),
      kvm,
    };
  }
  if (usable) return { accel: 'kvm', reason: detail, kvm };
  return { accel: 'tcg', reason: `TCG (software emulation, slower) because ${lowerFirst(detail)}`, kvm };
}

function lowerFirst(s: string): string {
  return s.startsWith('/') || s.startsWith('KVM') ? s : s.charAt(0).toLowerCase() + s.slice(1);
}

/** CPU model for new VMs: the host's own under working KVM, otherwise the richest model QEMU emulates. */
export function defaultCpuModel(accel: 'kvm' | 'tcg', hostCpuWorks: boolean, usable: string[]): string {
  const prefs = accel === 'kvm' ? (hostCpuWorks ? ['host'] : ['qemu64']) : ['max', 'qemu64'];
  return prefs.find((p) => p === 'host' || usable.includes(p)) ?? 'qemu64';
}
