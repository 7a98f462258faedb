// Reads QEMU's firmware descriptors (docs/interop/firmware.json). Later directories override
// files of the same name in earlier ones, and the descriptors' file names give their priority.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FirmwareDescriptor } from '../../../shared/host';

export function firmwareDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.HANGAR_FIRMWARE_DIRS) return env.HANGAR_FIRMWARE_DIRS.split(':').filter(Boolean);
  const config = env.XDG_CONFIG_HOME || join(env.HOME || '/root', '.config');
  return ['/usr/share/qemu/firmware', '/etc/qemu/firmware', join(config, 'qemu', 'firmware')];
}

interface RawDescriptor {
  description?: string;
  'interface-types'?: string[];
  mapping?: {
    device?: string;
    executable?: { filename?: string; format?: string };
    'nvram-template'?: { filename?: string; format?: string };
  };
  targets?: { architecture?: string; machines?: string[] }[];
  features?: string[];
}

export function parseDescriptor(name: string, raw: RawDescriptor): FirmwareDescriptor | null {
  const m = raw.mapping;
  if (!raw['interface-types']?.includes('uefi') || m?.device !== 'flash') return null;
  const exe = m.executable;
  const vars = m['nvram-template'];
  if (!exe?.filename || !vars?.filename) return null;
  const x86 = raw.targets?.find((t) => t.architecture === 'x86_64');
  if (!x86?.machines?.length) return null;
  const features = raw.features ?? [];
  const fmt = (f?: string) => (f === 'qcow2' ? 'qcow2' : 'raw') as 'raw' | 'qcow2';
  return {
    descriptor: name,
    description: raw.description ?? name,
    executable: { filename: exe.filename, format: fmt(exe.format) },
    varsTemplate: { filename: vars.filename, format: fmt(vars.format) },
    secureBoot: features.includes('secure-boot'),
    enrolledKeys: features.includes('enrolled-keys'),
    requiresSmm: features.includes('requires-smm'),
    machines: x86.machines,
  };
}

export function readFirmware(dirs: string[] = firmwareDirs()): FirmwareDescriptor[] {
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.json')) byName.set(f, join(dir, f));
  }
  const found: FirmwareDescriptor[] = [];
  for (const name of [...byName.keys()].sort()) {
    try {
      const d = parseDescriptor(name, JSON.parse(readFileSync(byName.get(name)!, 'utf8')) as RawDescriptor);
      // A descriptor whose images are missing (package partly removed) would only fail at start.
      if (d && existsSync(d.executable.filename) && existsSync(d.varsTemplate.filename)) found.push(d);
    } catch {
      // An unreadable descriptor is skipped like QEMU's own tools skip it.
    }
  }
  return found;
}
