// The wizard's form state: what the user typed, kept as text so a half-typed number is not lost,
// the host files the user chose (grants from the file dialog: the UI never types a path), and
// which profile-driven fields the user set by hand (an OS change must not overwrite those).
// Pure: no React, no API, so the unit tests can drive it directly.
import { OS_PROFILES } from '../../../../shared/profiles';
import type { PickedFile } from '../../../../shared/requests';
import type { Firmware, OsType } from '../../../../shared/vm';

export type MediaKind = 'iso' | 'library' | 'disk' | 'cloud' | 'none';
export type Preallocation = 'off' | 'metadata' | 'falloc' | 'full';
export const PREALLOCATIONS: readonly Preallocation[] = ['off', 'metadata', 'falloc', 'full'];

export interface ForwardRow {
  /** Stable per row, so React keys and "touched" marks survive removing a row above. */
  id: number;
  protocol: 'tcp' | 'udp';
  hostPort: string;
  guestPort: string;
}

/** A library image chosen in the wizard (engine/images): the VM becomes a linked clone of it. */
export interface LibraryChoice {
  id: string;
  name: string;
  format: 'qcow2' | 'raw' | 'iso';
  virtualSize: number;
  /** A catalog cloud image: it gets a cloud-init seed. */
  cloud: boolean;
}

/** What the engine said of the picked ISO (iso.identify), for the grant it was asked about. */
export interface IsoCheck {
  grant: string;
  kind: string;
  volumeId: string | null;
  os: { shortId: string; name: string } | null;
}

export interface WizardForm {
  name: string;
  osType: OsType;
  /** An osinfo-db short-id (recognised from the ISO or the image); its defaults fill untouched fields. */
  osVariant: string | null;
  media: MediaKind;
  iso: PickedFile | null;
  isoCheck: IsoCheck | null;
  libraryImage: LibraryChoice | null;
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
    osVariant: null,
    media: 'iso',
    iso: null,
    isoCheck: null,
    libraryImage: null,
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

/** What osinfo-db recommends for an OS, as the wizard applies it. */
export interface OsRecommendation {
  shortId: string;
  osType: OsType;
  cpus: number | null;
  memoryMiB: number | null;
  diskBytes: number | null;
}

/**
 * Applies a recognised OS: its family's profile, then osinfo's recommended CPUs, memory (at most
 * half the host) and disk size, each only where the user has not typed a value.
 */
export function applyOsRecommendation(
  form: WizardForm,
  os: OsRecommendation,
  host: HostBounds | null,
): WizardForm {
  const next = { ...chooseOs(form, os.osType, host), osVariant: os.shortId };
  const untouched = (f: ProfileField) => !form.edited.includes(f);
  if (os.cpus && untouched('cpus')) next.cpus = String(host ? Math.min(os.cpus, host.hostCpus) : os.cpus);
  if (os.memoryMiB && untouched('memoryMiB'))
    next.memoryMiB = String(host ? Math.min(os.memoryMiB, Math.floor(host.hostMemoryMiB / 2)) : os.memoryMiB);
  if (os.diskBytes && untouched('diskSize')) next.diskSize = `${Math.ceil(os.diskBytes / 2 ** 30)}G`;
  return next;
}
