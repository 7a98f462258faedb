// Turns the wizard's form into a CreateVmRequest and says what is wrong with it, field by field.
// The shared zod schema is the authority (the engine parses with the same one); the checks here
// add what the schema cannot know (host bounds, text that is not a number) with messages that say
// what to type instead. Pure, so it is unit-tested without a DOM.
import { CreateVmRequest } from '../../../../shared/requests';
import { SshPublicKey } from '../../../../shared/vm';
import type { ForwardRow, HostBounds, WizardForm } from './form';

export const STEPS = ['name', 'media', 'hardware', 'disk', 'firmware', 'network', 'review'] as const;
export type Step = (typeof STEPS)[number];

/** Field keys: form field names, `forward.<rowId>.host|guest` for port rows, and `form` for the rest. */
export type Errors = Record<string, string>;

/** What disk.info said about the chosen image; `grant` says which choice it is about. */
export interface DiskLookup {
  grant: string;
  format?: string;
  error?: string;
  /** Why the image's backing chain cannot be used at all (the engine would refuse it). */
  chainError?: string | null;
  virtualSize?: number;
}

export interface ValidateContext {
  host: HostBounds | null;
  /** The last disk.info answer for the chosen existing image, if any. */
  disk?: DiskLookup | null;
}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
const MIN_DISK = 2 ** 20;
const MAX_DISK = 64 * 2 ** 40;

/** Same grammar and bounds as the engine's parser, so the wizard refuses what the engine would. */
export function parseSize(input: string): { bytes: number } | { error: string } {
  const text = input.trim();
  if (text === '') return { error: 'Enter a size, like 20G or 512M.' };
  if (text.startsWith('-')) return { error: 'A disk size cannot be negative.' };
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text);
  if (!m) return { error: `"${text}" is not a size: use a number with a unit, like 20G or 512M.` };
  const unit = (m[2] ?? '').toUpperCase();
  const bytes = Number(m[1]) * (UNITS[unit] ?? 1);
  if (bytes === 0) return { error: 'A disk needs a size above zero: at least 1M.' };
  if (unit === '' && bytes < MIN_DISK)
    return { error: `${text} means ${text} bytes: add a unit, like ${text}G.` };
  if (bytes < MIN_DISK) return { error: `${text} is too small: a disk needs at least 1M.` };
  if (bytes > MAX_DISK) return { error: `${text} is too large: the limit is 64T.` };
  return { bytes };
}

function sizeLabel(bytes: number): string {
  const gib = bytes / 2 ** 30;
  return gib >= 1 ? `${+gib.toFixed(1)}G` : `${Math.ceil(bytes / 2 ** 20)}M`;
}

/** A whole number typed as text, or the message to show. */
function wholeNumber(text: string, what: string): number | string {
  const t = text.trim();
  if (t === '') return `Enter ${what}.`;
  if (!/^\d+$/.test(t)) return `${what[0]!.toUpperCase()}${what.slice(1)} must be a whole number.`;
  return Number(t);
}

function port(text: string): number | string {
  const n = wholeNumber(text, 'a port');
  if (typeof n === 'string') return n;
  return n >= 1 && n <= 65535 ? n : 'Ports run from 1 to 65535.';
}

function forwardErrors(rows: ForwardRow[], errors: Errors) {
  const seen = new Set<string>();
  return rows.map((r) => {
    const host = port(r.hostPort);
    const guest = port(r.guestPort);
    if (typeof host === 'string') errors[`forward.${r.id}.host`] = host;
    if (typeof guest === 'string') errors[`forward.${r.id}.guest`] = guest;
    if (typeof host === 'number') {
      const key = `${r.protocol}/${host}`;
      if (seen.has(key)) errors[`forward.${r.id}.host`] = `Host port ${key} is already forwarded above.`;
      seen.add(key);
    }
    return { protocol: r.protocol, hostPort: host, guestPort: guest };
  });
}

const CLOUD_FIELDS: Record<string, string> = {
  user: 'ciUser',
  sshKeys: 'ciPastedKeys',
  password: 'ciPassword',
  userData: 'ciUserData',
};

/** The cloud-init part of the request, with problems of the fields that feed it. */
function cloudInitOf(form: WizardForm, errors: Errors): NonNullable<CreateVmRequest['cloudInit']> {
  const pasted = form.ciPastedKeys
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const bad = pasted.findIndex((k) => !SshPublicKey.safeParse(k).success);
  if (bad >= 0)
    errors.ciPastedKeys = `Line ${bad + 1} is not an SSH public key: paste lines like "ssh-ed25519 AAAA… you@host" (the .pub file, never the private key).`;
  const userData = form.ciUserData.trim();
  const first = userData.split('\n', 1)[0]?.trim() ?? '';
  if (userData && first !== '#cloud-config' && !first.startsWith('#!'))
    errors.ciUserData = 'Start with the line #cloud-config (YAML) or #!/bin/sh (a script).';
  const keys = form.ciKeys === null && pasted.length === 0 ? undefined : [...(form.ciKeys ?? []), ...pasted];
  return {
    ...(form.ciUser.trim() ? { user: form.ciUser.trim() } : {}),
    ...(keys ? { sshKeys: keys } : {}),
    ...(form.ciPassword ? { password: form.ciPassword } : {}),
    ...(userData ? { userData: `${userData}\n` } : {}),
  };
}

/** Maps a schema issue's path back to the field that shows it. */
function fieldOf(path: readonly PropertyKey[], rows: ForwardRow[], media: WizardForm['media']): string {
  const [a, b, c, d] = path;
  if (a === 'iso') return 'iso';
  if (a === 'cloudInit' && typeof b === 'string') return CLOUD_FIELDS[b] ?? 'form';
  if (a === 'diskSize') return 'diskSize';
  if (a === 'disk')
    return b === 'size'
      ? 'diskSize'
      : b === 'path'
        ? media === 'cloud'
          ? 'cloudImage'
          : 'diskImage'
        : 'form';
  if (a === 'directBoot' && typeof b === 'string') return b;
  if (a === 'network' && typeof c === 'number') {
    const row = rows[c];
    return row ? `forward.${row.id}.${d === 'guestPort' ? 'guest' : 'host'}` : 'forwards';
  }
  if (typeof a === 'string' && ['name', 'cpus', 'memoryMiB', 'firmware', 'tpm', 'osType'].includes(a))
    return a;
  return 'form';
}

/** Builds the request and collects every problem; `request` is set only when there are none. */
export function buildRequest(
  form: WizardForm,
  ctx: ValidateContext,
): { request: CreateVmRequest | null; errors: Errors } {
  const errors: Errors = {};
  const { host } = ctx;

  const cpus = wholeNumber(form.cpus, 'the number of CPUs');
  if (typeof cpus === 'string') errors.cpus = cpus;
  else if (cpus < 1) errors.cpus = 'A VM needs at least 1 CPU.';
  else if (host && cpus > host.hostCpus) errors.cpus = `This host has ${host.hostCpus} CPUs.`;

  const memory = wholeNumber(form.memoryMiB, 'the memory in MiB');
  if (typeof memory === 'string') errors.memoryMiB = memory;
  else if (memory < 32) errors.memoryMiB = 'Memory must be at least 32 MiB.';
  else if (host && memory > host.hostMemoryMiB)
    errors.memoryMiB = `This host has ${host.hostMemoryMiB} MiB of memory.`;

  const libraryDisk = form.media === 'library' && form.libraryImage && form.libraryImage.format !== 'iso';
  if (form.media !== 'disk') {
    const size = parseSize(form.diskSize);
    if ('error' in size) errors.diskSize = size.error;
    else if (libraryDisk && size.bytes < form.libraryImage!.virtualSize)
      errors.diskSize = `The image is ${sizeLabel(form.libraryImage!.virtualSize)}: a disk is grown, never shrunk.`;
    else if (
      form.media === 'cloud' &&
      ctx.disk?.virtualSize !== undefined &&
      ctx.disk.grant === form.cloudImage?.grant &&
      size.bytes < ctx.disk.virtualSize
    )
      errors.diskSize = `The image is already ${sizeLabel(ctx.disk.virtualSize)}: a disk is grown, never shrunk.`;
  }
  if (form.media === 'iso' && !form.iso)
    errors.iso = 'Choose an ISO: Choose… opens a file dialog, or pick one of those found below.';
  if (
    form.media === 'iso' &&
    form.iso &&
    form.isoCheck?.grant === form.iso.grant &&
    form.isoCheck.kind !== 'iso'
  )
    errors.iso = `This file is not install media (ISO 9660 or UDF); it looks like ${
      form.isoCheck.kind === 'raw' ? 'raw data' : `a ${form.isoCheck.kind} image`
    }. Choose an ISO, or boot it as an existing disk image.`;
  if (form.media === 'library' && !form.libraryImage)
    errors.libraryImage = 'Choose an image from the library (add images on the Library page).';
  if (form.media === 'disk' && !form.diskImage) errors.diskImage = 'Choose the disk image.';
  if (form.media === 'cloud' && !form.cloudImage)
    errors.cloudImage =
      'Choose the cloud image: a qcow2 made for the cloud, like debian-12-genericcloud-amd64.qcow2.';
  if (
    form.media !== 'disk' &&
    form.media !== 'cloud' &&
    form.diskFormat === 'raw' &&
    form.preallocation === 'metadata'
  )
    errors.preallocation = 'Metadata preallocation exists for qcow2 only: choose off, falloc or full.';
  const image = form.media === 'cloud' ? form.cloudImage : form.media === 'disk' ? form.diskImage : null;
  const imageField = form.media === 'cloud' ? 'cloudImage' : 'diskImage';
  if (image && ctx.disk && ctx.disk.grant === image.grant) {
    if (ctx.disk.error) errors[imageField] = ctx.disk.error;
    else if (ctx.disk.format && ctx.disk.format !== 'qcow2' && ctx.disk.format !== 'raw')
      errors[imageField] =
        `This is a ${ctx.disk.format} image; convert it to qcow2 first (qemu-img convert -O qcow2).`;
    else if (ctx.disk.chainError) errors[imageField] = ctx.disk.chainError;
  }
  if (form.media === 'none' && !form.kernel && (form.initrd || form.cmdline.trim()))
    errors.kernel = 'An initrd or command line needs a kernel to go with it.';
  if (form.tpm && host && !host.tpm)
    errors.tpm = 'A TPM needs swtpm: sudo apt-get install swtpm swtpm-tools.';

  const cloudLibrary = form.media === 'library' && form.libraryImage?.cloud === true;
  if ((form.media === 'cloud' || cloudLibrary) && !form.nat)
    errors.nat = 'A VM from a cloud image needs its network (ssh and its address): turn NAT on.';
  const forwards = form.nat ? forwardErrors(form.forwards, errors) : [];
  const known = (f: string) => f in errors;
  const facts = ctx.disk && image && ctx.disk.grant === image.grant ? ctx.disk : null;
  const cloudInit = form.media === 'cloud' || cloudLibrary ? cloudInitOf(form, errors) : null;
  const diskFormat = facts?.format === 'qcow2' || facts?.format === 'raw' ? facts.format : undefined;

  const candidate = {
    // Not trimmed: a trailing line break must be refused, not silently dropped.
    name: form.name,
    osType: form.osType,
    cpus: typeof cpus === 'number' ? cpus : 1,
    memoryMiB: typeof memory === 'number' ? memory : 32,
    firmware: form.firmware,
    tpm: form.tpm,
    disk:
      form.media === 'disk'
        ? {
            kind: 'existing' as const,
            path: form.diskImage?.grant ?? '',
            copy: form.existing === 'copy',
            ...(diskFormat ? { format: diskFormat } : {}),
          }
        : form.media === 'cloud'
          ? {
              kind: 'existing' as const,
              path: form.cloudImage?.grant ?? '',
              copy: true,
              ...(diskFormat ? { format: diskFormat } : {}),
            }
          : {
              kind: 'new' as const,
              size: form.diskSize.trim(),
              format: form.diskFormat,
              preallocation: form.preallocation,
            },
    ...(form.media === 'cloud' ? { diskSize: form.diskSize.trim(), cloudInit } : {}),
    ...(form.media === 'library' && form.libraryImage
      ? {
          image: form.libraryImage.id,
          // Grown only when the user typed a size; otherwise the clone is the image's size.
          ...(libraryDisk && form.edited.includes('diskSize') ? { diskSize: form.diskSize.trim() } : {}),
          ...(cloudLibrary ? { cloudInit } : {}),
        }
      : {}),
    ...(form.osVariant ? { osVariant: form.osVariant } : {}),
    iso: form.media === 'iso' ? (form.iso?.grant ?? '') : null,
    network: form.nat
      ? {
          portForwards: forwards.map((f) => ({
            protocol: f.protocol,
            hostPort: typeof f.hostPort === 'number' ? f.hostPort : 1,
            guestPort: typeof f.guestPort === 'number' ? f.guestPort : 1,
          })),
        }
      : null,
    directBoot:
      form.media === 'none' && form.kernel
        ? {
            kernel: form.kernel.grant,
            ...(form.initrd ? { initrd: form.initrd.grant } : {}),
            cmdline: form.cmdline,
          }
        : null,
  } satisfies CreateVmRequest;

  // The schema has the last word; our own messages win where both speak about a field.
  const parsed = CreateVmRequest.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = fieldOf(issue.path, form.forwards, form.media);
      if (!known(field)) errors[field] = issue.message;
    }
  }
  return { request: Object.keys(errors).length === 0 ? candidate : null, errors };
}

/** Which step shows a field, so each step can block Next on its own problems only. */
export function stepOf(field: string): Step {
  if (field === 'name' || field === 'osType') return 'name';
  if (['iso', 'libraryImage', 'diskImage', 'kernel', 'initrd', 'cmdline', 'cloudImage'].includes(field))
    return 'media';
  if (field.startsWith('ci')) return 'media';
  if (field === 'cpus' || field === 'memoryMiB') return 'hardware';
  if (field === 'diskSize' || field === 'preallocation') return 'disk';
  if (field === 'firmware' || field === 'tpm') return 'firmware';
  if (field.startsWith('forward') || field === 'nat') return 'network';
  return 'review';
}

export function errorsFor(step: Step, errors: Errors): Errors {
  return Object.fromEntries(Object.entries(errors).filter(([f]) => stepOf(f) === step));
}
