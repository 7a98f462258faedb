// Recognises a VM whose firmware found nothing to boot, or whose media Secure Boot refused, from
// the firmware's own words: SeaBIOS's debug port (a ring in QEMU, this run only) and OVMF's boot
// manager lines on the serial console (serial.log since the start mark). Only the latest boot
// counts: a guest the user rescued (an ISO inserted, then reset) is not reported for an earlier
// failure. Without this the card says Running while the screen says "No bootable device".
import type { Firmware } from '../../../shared/vm';

export interface BootFailure {
  kind: 'nothing-to-boot' | 'secure-boot';
  message: string;
}

const NOTHING: BootFailure = {
  kind: 'nothing-to-boot',
  message:
    'Nothing to boot: the firmware found no bootable disk or disc. Insert install media ' +
    '(Settings → CD-ROM) or check the boot order, then reset the VM.',
};

const SECURE_BOOT: BootFailure = {
  kind: 'secure-boot',
  message:
    'Secure Boot refused the boot media ("Access Denied"): it is not signed with a key this ' +
    'firmware trusts. Use signed media, or stop the VM and choose UEFI without Secure Boot ' +
    '(Settings → Firmware).',
};

/** SeaBIOS: each boot starts with its banner; the last one's output decides. */
export function seabiosFailure(log: string): BootFailure | null {
  const since = log.slice(Math.max(0, log.lastIndexOf('SeaBIOS (version')));
  return since.includes('No bootable device.') ? NOTHING : null;
}

// eslint-disable-next-line no-control-regex -- terminal escapes are what is being removed
const ESCAPES = /\u001b\[[0-9;=?]*[A-Za-z]/g;
const BDS = /^BdsDxe: (failed to load|failed to start|loading|starting) Boot[0-9A-F]{4} "([^"]*)"/;
/** The reason OVMF gives at the end of a failed line, after the device path (which may hold ': '). */
const REASON = /: ([A-Za-z][A-Za-z ]*)$/;
/** The firmware's own entries, which it falls back to when nothing else boots. */
const BUILT_IN = /^(EFI Internal Shell|UiApp|EFI Firmware Setup|Boot Manager Menu)$/;

/** OVMF: the boot manager's lines since the VM started; only what followed the last real start counts. */
export function ovmfFailure(serialSinceStart: string): BootFailure | null {
  let denied = false;
  let outcome: BootFailure | null = null;
  for (const raw of serialSinceStart.replace(ESCAPES, '').split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (line.includes('No bootable option or device was found')) {
      outcome = denied ? SECURE_BOOT : NOTHING;
      continue;
    }
    const m = BDS.exec(line);
    if (!m) continue;
    const [, what, entry] = m;
    const why = REASON.exec(line)?.[1];
    const builtIn = BUILT_IN.test(entry!.trim());
    // Secure Boot says "Access Denied" for unsigned media, "Security Violation" for a loader it refused.
    if (what!.startsWith('failed') && !builtIn && /Access Denied|Security Violation/.test(why ?? ''))
      denied = true;
    if (what === 'starting') {
      if (builtIn) {
        // Every real option failed and OVMF fell back to its own shell or menu: nothing to boot.
        outcome = denied ? SECURE_BOOT : NOTHING;
      } else {
        outcome = null;
        denied = false;
      }
    }
  }
  return outcome;
}

export function bootFailure(
  firmware: Firmware,
  seabiosLog: string,
  serialSinceStart: string,
): BootFailure | null {
  return firmware === 'bios' ? seabiosFailure(seabiosLog) : ovmfFailure(serialSinceStart);
}
