// The wizard's form state: what the user typed, kept as text so a half-typed number is not lost,
// the host files the user chose (grants from the file dialog: the UI never types a path), and
// which profile-driven fields the user set by hand (an OS change must not overwrite those).
// Pure: no React, no API, so the unit tests can drive it directly.
import { OS_PROFILES } from '../../../../shared/profiles';
import type { PickedFile } from '../../../../shared/requests';
import type { Firmware, OsType } from '../../../../shared/vm';

export type MediaKind = 'iso' | 'disk' | 'cloud' | 'none';
export type Preallocation = 'off' | 'metadata' | 'falloc' | 'full';
export const PREALLOCATIONS: readonly Preallocation[] = ['off', 'metadata', 'falloc', 'full'];

export interface ForwardRow {
  /** Stable per row, so React keys and "touched" marks survive removing a row above. */
  id: number;
  protocol: 'tcp' | 'udp';
  hostPort: string;
  guestPort: string;
}

export interface WizardForm {
  name: string;
  osType: OsType;
  media: MediaKind;
  iso: PickedFile | null;
  diskImage: PickedFile | null;
  /** For an existing image: use it where it is, or copy it into the VM's directory. */
  existing: 'external' | 'copy';
  kernel: PickedFile | null;
  initrd: PickedFile | null;
  cmdline: string;
  /** A cloud image: copied into the VM, grown to diskSize, set up by cloud-init from these. */
  cloudImage: PickedFile | null;
  /** Empty: the engine's default (the host user's name). */
  ciUser: string;
  /** Keys from ~/.ssh that are ticked; null: all of them (the engine's default). */
  ciKeys: string[] | null;
  /** Keys pasted by the user, one per line. */
  ciPastedKeys: string;
  ciPassword: string;
  /** Extra user-data: a #cloud-config document or a script. */
  ciUserData: string;
  cpus: string;
  memoryMiB: string;
  diskSize: string;
  diskFormat: 'qcow2' | 'raw';
  preallocation: Preallocation;
  firmware: Firmware;
  tpm: boolean;
  nat: boolean;
  forwards: ForwardRow[];
  edited: ProfileField[];
}

/** Fields whose defaults come from the OS profile. */
export type ProfileField = 'cpus' | 'memoryMiB' | 'diskSize' | 'firmware' | 'tpm';
const PROFILE_FIELDS: readonly ProfileField[] = ['cpus', 'memoryMiB', 'diskSize', 'firmware', 'tpm'];

/** The part of the host probe the wizard needs; null while it is still loading. */
export interface HostBounds {
  hostCpus: number;
  hostMemoryMiB: number;
  /** swtpm present: a TPM can be emulated. */
  tpm: boolean;
}

/** Defaults the host can actually run: a profile's 4 GiB on a 2 GiB host would be refused. */
export function profileDefaults(os: OsType, host: HostBounds | null): Pick<WizardForm, ProfileField> {
  const p = OS_PROFILES[os];
  return {
    cpus: String(host ? Math.max(1, Math.min(p.cpus, host.hostCpus)) : p.cpus),
    memoryMiB: String(host ? Math.max(32, Math.min(p.memoryMiB, host.hostMemoryMiB)) : p.memoryMiB),
    diskSize: `${p.diskGiB}G`,
    firmware: p.firmware,
    tpm: p.tpm && (host?.tpm ?? true),
  };
}

export function initialForm(host: HostBounds | null, os: OsType = 'linux'): WizardForm {
  return {
    name: '',
    osType: os,
    media: 'iso',
    iso: null,
    diskImage: null,
    existing: 'external',
    kernel: null,
    initrd: null,
    cmdline: '',
    cloudImage: null,
    ciUser: '',
    ciKeys: null,
    ciPastedKeys: '',
    ciPassword: '',
    ciUserData: '',
    ...profileDefaults(os, host),
    diskFormat: 'qcow2',
    preallocation: 'off',
    nat: true,
    forwards: [],
    edited: [],
  };
}

/** Switches the OS type and refreshes every profile-driven field the user has not touched. */
export function chooseOs(form: WizardForm, os: OsType, host: HostBounds | null): WizardForm {
  const defaults = profileDefaults(os, host);
  const next: WizardForm = { ...form, osType: os };
  for (const f of PROFILE_FIELDS) {
    if (!form.edited.includes(f)) Object.assign(next, { [f]: defaults[f] });
  }
  return next;
}

/** A change made by the user; profile fields are remembered as edited. */
export function setField<K extends keyof WizardForm>(
  form: WizardForm,
  key: K,
  value: WizardForm[K],
): WizardForm {
  const profileField = (PROFILE_FIELDS as readonly string[]).includes(key);
  const edited =
    profileField && !form.edited.includes(key as ProfileField)
      ? [...form.edited, key as ProfileField]
      : form.edited;
  return { ...form, [key]: value, edited };
}

let nextRowId = 1;
export function newForwardRow(): ForwardRow {
  return { id: nextRowId++, protocol: 'tcp', hostPort: '', guestPort: '' };
}
