// The firmware's words, as captured from QEMU 7.2 with Debian 12's SeaBIOS 1.16.2 and OVMF
// (escape sequences as OVMF writes them to the serial console).
import { describe, expect, it } from 'vitest';
import { bootFailure, ovmfFailure, seabiosFailure } from './boot-failure';

const ESC = '\u001b';
const DVD = '"UEFI QEMU DVD-ROM QM00005 " from PciRoot(0x0)/Pci(0x1F,0x2)/Sata(0x2,0xFFFF,0x0)';
const SHELL =
  '"EFI Internal Shell" from Fv(7CB8BDC9-F8EB-4F34-AAEA-3EE4AF6516A1)/FvFile(7C04A583-9E3E-4F1C-AD65-E05268D0B4D1)';
const lines = (...l: string[]) => `${ESC}[=3h${ESC}[=3h` + l.join('\r\n') + '\r\n';

const seabiosEmpty = [
  'SeaBIOS (version 1.16.2-debian-1.16.2-1)',
  'Booting from Hard Disk...',
  'Boot failed: could not read the boot disk',
  'Booting from DVD/CD...',
  'Boot failed: Could not read from CDROM (code 0003)',
  'No bootable device.',
].join('\n');

describe('SeaBIOS', () => {
  it('reports nothing to boot from its debug port, with what to do', () => {
    expect(seabiosFailure(seabiosEmpty)).toMatchObject({
      kind: 'nothing-to-boot',
      message: expect.stringMatching(/Insert install media .* then reset the VM/),
    });
  });

  it('forgets a failure once the VM was reset into a boot that worked', () => {
    const rescued = `${seabiosEmpty}\nSeaBIOS (version 1.16.2-debian-1.16.2-1)\nBooting from DVD/CD...\n`;
    expect(seabiosFailure(rescued)).toBeNull();
    expect(seabiosFailure('')).toBeNull();
  });
});

describe('OVMF', () => {
  it('reports nothing to boot when it falls back to its own shell', () => {
    const text = lines(
      `BdsDxe: failed to load Boot0001 ${DVD}: Not Found`,
      `BdsDxe: loading Boot0002 ${SHELL}`,
      `BdsDxe: starting Boot0002 ${SHELL}`,
      'UEFI Interactive Shell v2.2',
      `${ESC}[1m${ESC}[33m${ESC}[40mShell> `,
    );
    expect(ovmfFailure(text)?.kind).toBe('nothing-to-boot');
    expect(bootFailure('uefi', '', text)?.kind).toBe('nothing-to-boot');
  });

  it('reports Secure Boot refusing unsigned media, with the way out', () => {
    const text = lines(
      `BdsDxe: loading Boot0001 ${DVD}`,
      `BdsDxe: failed to load Boot0001 ${DVD}: Access Denied`,
      `BdsDxe: loading Boot0002 ${SHELL}`,
      `BdsDxe: starting Boot0002 ${SHELL}`,
      `BdsDxe: failed to start Boot0002 ${SHELL}: Security Violation`,
      'BdsDxe: No bootable option or device was found.',
      'BdsDxe: Press any key to enter the Boot Manager Menu.',
    );
    expect(ovmfFailure(text)).toMatchObject({
      kind: 'secure-boot',
      message: expect.stringMatching(/Access Denied.*UEFI without Secure Boot/s),
    });
  });

  it('reports Secure Boot refusing an installed OS, whose entry ends in a file path', () => {
    const disk =
      '"debian" from HD(1,GPT,0C3F1C4E-1A2B-4C5D-8E9F-0123456789AB,0x800,0x100000)/\\EFI\\debian\\shimx64.efi';
    const text = lines(
      `BdsDxe: loading Boot0003 ${disk}`,
      `BdsDxe: failed to load Boot0003 ${disk}: Access Denied`,
      'BdsDxe: No bootable option or device was found.',
    );
    expect(ovmfFailure(text)?.kind).toBe('secure-boot');
  });

  it('says nothing when an OS started, including after an earlier failure in the same run', () => {
    const booted = lines(`BdsDxe: loading Boot0001 ${DVD}`, `BdsDxe: starting Boot0001 ${DVD}`, 'Linux...');
    expect(ovmfFailure(booted)).toBeNull();
    const failedThenRescued = lines(
      `BdsDxe: starting Boot0002 ${SHELL}`,
      `BdsDxe: loading Boot0001 ${DVD}`,
      `BdsDxe: starting Boot0001 ${DVD}`,
    );
    expect(ovmfFailure(failedThenRescued)).toBeNull();
    // A BIOS VM is judged by SeaBIOS's log, never by what its guest prints on serial.
    expect(bootFailure('bios', '', lines(`BdsDxe: starting Boot0002 ${SHELL}`))).toBeNull();
  });
});
