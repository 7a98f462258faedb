// The settings form as plain data: built from vm.json, turned back into the smallest EditVmRequest
// (only changed fields, so renaming a running VM never touches hardware), checked with the same
// schema the engine uses so most mistakes show before anything is sent.
import type { z } from 'zod';
import { EditVmRequest } from '../../../../shared/requests';
import type { Firmware, PortForward, VmConfig } from '../../../../shared/vm';

export interface ForwardRow {
  key: number;
  protocol: PortForward['protocol'];
  hostAddress: PortForward['hostAddress'];
  hostPort: string;
  guestPort: string;
}

export interface SettingsForm {
  name: string;
  description: string;
  /** As typed: tags separated by commas or spaces. */
  tags: string;
  cpus: string;
  memoryMiB: string;
  firmware: Firmware;
  tpm: boolean;
  forwards: ForwardRow[];
}

/** Field name (or "portForwards.<row>.<field>") -> message. */
export type FormErrors = Record<string, string>;

let nextKey = 1;
export function newForwardRow(): ForwardRow {
  return { key: nextKey++, protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: '', guestPort: '' };
}

export function formFromConfig(c: VmConfig): SettingsForm {
  return {
    name: c.name,
    description: c.description,
    tags: c.tags.join(', '),
    cpus: String(c.cpus),
    memoryMiB: String(c.memoryMiB),
    firmware: c.firmware,
    tpm: c.tpm,
    forwards: (c.nics[0]?.portForwards ?? []).map((f) => ({
      key: nextKey++,
      protocol: f.protocol,
      hostAddress: f.hostAddress,
      hostPort: String(f.hostPort),
      guestPort: String(f.guestPort),
    })),
  };
}

/** "web, ci linux" -> ["web", "ci", "linux"]; the schema checks each (and repeats). */
export function parseTags(s: string): string[] {
  return s.split(/[\s,]+/).filter(Boolean);
}

/** "" and "1.5" must not become 0 or 1.5 silently; NaN fails the schema's integer check. */
function toInt(s: string): number {
  return /^\s*\d+\s*$/.test(s) ? Number(s) : NaN;
}

function sameForwards(a: PortForward[], b: PortForward[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function patchFromForm(form: SettingsForm, c: VmConfig): { patch: EditVmRequest; errors: FormErrors } {
  const draft: Record<string, unknown> = {};
  if (form.name !== c.name) draft.name = form.name;
  if (form.description !== c.description) draft.description = form.description;
  const tags = parseTags(form.tags);
  if (tags.join(',') !== c.tags.join(',')) draft.tags = tags;
  if (form.cpus !== String(c.cpus)) draft.cpus = toInt(form.cpus);
  if (form.memoryMiB !== String(c.memoryMiB)) draft.memoryMiB = toInt(form.memoryMiB);
  if (form.firmware !== c.firmware) draft.firmware = form.firmware;
  if (form.tpm !== c.tpm) draft.tpm = form.tpm;
  const forwards = form.forwards.map((f) => ({
    protocol: f.protocol,
    hostAddress: f.hostAddress,
    hostPort: toInt(f.hostPort),
    guestPort: toInt(f.guestPort),
  }));
  if (!sameForwards(forwards, c.nics[0]?.portForwards ?? [])) draft.portForwards = forwards;

  const parsed = EditVmRequest.safeParse(draft);
  if (parsed.success) return { patch: parsed.data, errors: {} };
  const errors: FormErrors = {};
  for (const issue of parsed.error.issues) errors[issue.path.join('.')] ??= friendly(issue);
  return { patch: {}, errors };
}

/** The schema's own words where it has them; zod's generic bound messages read like code. */
function friendly(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return 'Enter a whole number.';
  if (!issue.message.startsWith('Too ') && !issue.message.startsWith('Invalid')) return issue.message;
  if (issue.code === 'too_small') return `Must be at least ${String(issue.minimum)}.`;
  if (issue.code === 'too_big') return `Must be at most ${String(issue.maximum)}.`;
  return issue.message;
}

export function isDirty(form: SettingsForm, c: VmConfig): boolean {
  const { patch, errors } = patchFromForm(form, c);
  return Object.keys(patch).length > 0 || Object.keys(errors).length > 0;
}

/** Fields the engine changes while the VM runs (the rest wait for a stop). */
export const LIVE_FIELDS = new Set(['name', 'description', 'tags', 'portForwards']);
