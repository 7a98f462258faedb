// Picks UEFI firmware from QEMU's firmware descriptors rather than hard-coded paths, so the
// choice follows the distribution's packaging (and a user's overrides in /etc/qemu/firmware).
import type { Firmware } from '../../../shared/vm';
import type { FirmwareDescriptor } from '../../../shared/host';
import { HangarError } from '../../../shared/errors';

function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return re.test(text);
}

/** `machine` is the resolved machine type name, e.g. pc-q35-7.2 (aliases like q35 are resolved first). */
export function selectFirmware(
  available: FirmwareDescriptor[],
  wanted: Exclude<Firmware, 'bios'>,
  machine: string,
): FirmwareDescriptor {
  const secure = wanted === 'uefi-secure';
  const fits = available.filter(
    (f) => f.machines.some((m) => globMatch(m, machine)) && f.secureBoot === secure,
  );
  // With secure boot, prefer images with Microsoft's keys enrolled so Windows installers boot.
  const ranked = secure
    ? [...fits.filter((f) => f.enrolledKeys), ...fits.filter((f) => !f.enrolledKeys)]
    : fits;
  const chosen = ranked[0];
  if (!chosen) {
    throw new HangarError(
      'UNSUPPORTED',
      `No ${secure ? 'secure-boot ' : ''}UEFI firmware for machine type ${machine} was found. ` +
        'Install the ovmf package (sudo apt-get install ovmf), or choose BIOS firmware.',
      { machine, firmware: wanted },
    );
  }
  return chosen;
}
