// The VM configs on disk: one directory per VM under $HANGAR_HOME/vms. A vm.json that cannot be
// read or parsed is reported for that VM and left exactly as it is, never overwritten silently.
import { LINKED_TO_FILE, STAGING_PREFIX } from './filenames';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CheckedVmConfig, VM_SCHEMA_VERSION, VmConfig, VmId } from '../../../shared/vm';
import { HangarError } from '../../../shared/errors';
import { fsyncDir, writeFileAtomic } from './atomic';
import { vmPaths } from './paths';

export type ConfigEntry =
  { id: string; ok: true; config: VmConfig } | { id: string; ok: false; error: string };

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function newVmId(): string {
  const bytes = randomBytes(12);
  return Array.from(bytes, (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
}

/** A locally administered unicast MAC in QEMU's 52:54:00 range. */
export function newMac(): string {
  const b = randomBytes(3);
  return ['52', '54', '00', ...Array.from(b, (x) => x.toString(16).padStart(2, '0'))].join(':');
}

export function describeZodError(err: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return err.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

export function parseConfig(raw: unknown): VmConfig {
  const result = CheckedVmConfig.safeParse(raw);
  if (!result.success) throw new HangarError('INVALID_INPUT', describeZodError(result.error));
  return result.data;
}

/**
 * A new VM (created or cloned) is assembled in `vms/.partial-<id>`, a name list() skips, and
 * published by renaming it to `vms/<id>` once its files and vm.json are complete. An engine killed
 * midway leaves only a .partial directory, which holds copies and new files and nothing else, and
 * which the next engine removes (recovery.ts).
 */

/**
 * What identifies one version of a file without reading it (a rename-in changes the inode): the
 * index below and delete's backing-name cache (vms/dependents.ts) both key on it.
 */
export function stampOf(file: string): string | null {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}` : null;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The store is also the engine's in-memory index of VM configs. Each vm.json is parsed once and
 * kept, frozen, with its stamp (inode, size, times); a read costs one stat and parses again only
 * when the file changed behind the engine's back (an editor, another tool, a restore). Saves put
 * what they wrote straight into the index. With 1,000 VMs, listing is 1,000 stats, not 1,000 parses.
 */
export class ConfigStore {
  readonly vmsDir: string;
  private readonly index = new Map<string, { stamp: string; entry: ConfigEntry }>();

  constructor(readonly home: string) {
    this.vmsDir = join(home, 'vms');
  }

  init(): void {
    mkdirSync(this.vmsDir, { recursive: true, mode: 0o700 });
  }

  /** The VMs' ids from the folder names alone: no vm.json is read. */
  ids(): string[] {
    if (!existsSync(this.vmsDir)) return [];
    return readdirSync(this.vmsDir)
      .filter((d) => VmId.safeParse(d).success)
      .sort();
  }

  /** Every VM, from the index (entries are frozen: load() gives a copy to change and save). */
  list(): ConfigEntry[] {
    const ids = this.ids();
    if (this.index.size > ids.length) {
      const live = new Set(ids);
      for (const id of this.index.keys()) if (!live.has(id)) this.index.delete(id);
    }
    return ids.map((id) => this.read(id));
  }

  /** The VM's entry from the index, parsed again only when its vm.json changed (frozen). */
  read(id: string): ConfigEntry {
    const file = join(this.vmsDir, id, 'vm.json');
    const stamp = stampOf(file);
    const known = this.index.get(id);
    if (stamp !== null && known?.stamp === stamp) return known.entry;
    const entry = deepFreeze(this.parse(id, file));
    // A file that changes while it is read gets another stamp, so it is read again next time.
    if (stamp !== null && stampOf(file) === stamp) this.index.set(id, { stamp, entry });
    else this.index.delete(id);
    return entry;
  }

  private remember(id: string, config: VmConfig): void {
    const stamp = stampOf(vmPaths(this.home, id).configFile);
    if (stamp !== null)
      this.index.set(id, { stamp, entry: deepFreeze({ id, ok: true, config: structuredClone(config) }) });
  }

  private parse(id: string, file: string): ConfigEntry {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return { id, ok: false, error: `cannot read ${file}: ${(err as Error).message}` };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      return {
        id,
        ok: false,
        error: `${file} is not valid JSON (${(err as Error).message}); fix or remove it`,
      };
    }
    const version = (raw as { schemaVersion?: unknown })?.schemaVersion;
    if (version !== VM_SCHEMA_VERSION) {
      return {
        id,
        ok: false,
        error: `${file} has schema version ${String(version)}; this Hangar reads ${VM_SCHEMA_VERSION}`,
      };
    }
    const parsed = CheckedVmConfig.safeParse(raw);
    if (!parsed.success)
      return { id, ok: false, error: `${file} is invalid: ${describeZodError(parsed.error)}` };
    if (parsed.data.id !== id)
      return { id, ok: false, error: `${file} names id ${parsed.data.id}, not its directory ${id}` };
    return { id, ok: true, config: parsed.data };
  }

  load(id: string): VmConfig {
    if (!VmId.safeParse(id).success)
      throw new HangarError('NOT_FOUND', `No VM with id ${JSON.stringify(id)}.`);
    const entry = this.read(id);
    if (entry.ok) return structuredClone(entry.config);
    if (!existsSync(vmPaths(this.home, id).vmDir)) throw new HangarError('NOT_FOUND', `No VM with id ${id}.`);
    throw new HangarError('CONFIG_CORRUPT', entry.error, { id });
  }

  /** Validates, stamps updatedAt and writes atomically. The VM directory must exist (see create). */
  save(config: VmConfig): VmConfig {
    const next = parseConfig({ ...config, updatedAt: new Date().toISOString() });
    writeFileAtomic(vmPaths(this.home, next.id).configFile, JSON.stringify(next, null, 2) + '\n');
    this.remember(next.id, next);
    return next;
  }

  /**
   * Makes the directory in which a new VM is assembled before publish(). A linked clone names
   * its template here, so the template counts it among its clones before it is published.
   */
  stage(id: string, linkedTo: string | null = null): string {
    this.init();
    const dir = join(this.vmsDir, STAGING_PREFIX + id);
    mkdirSync(dir, { mode: 0o700 });
    if (linkedTo) writeFileAtomic(join(dir, LINKED_TO_FILE), linkedTo);
    return dir;
  }

  /** Linked clones still being made (or left half-made by a killed engine), by template id. */
  stagedClonesOf(templateId: string): string[] {
    if (!existsSync(this.vmsDir)) return [];
    return readdirSync(this.vmsDir).flatMap((d) => {
      if (!d.startsWith(STAGING_PREFIX)) return [];
      try {
        const tpl = readFileSync(join(this.vmsDir, d, LINKED_TO_FILE), 'utf8').trim();
        return tpl === templateId ? [d.slice(STAGING_PREFIX.length)] : [];
      } catch {
        return [];
      }
    });
  }

  /** Writes vm.json into a staged directory and makes the VM exist with one rename. */
  publish(config: VmConfig, staged: string): VmConfig {
    const next = parseConfig({ ...config, updatedAt: new Date().toISOString() });
    writeFileAtomic(join(staged, 'vm.json'), JSON.stringify(next, null, 2) + '\n');
    const dir = vmPaths(this.home, next.id).vmDir;
    if (existsSync(dir))
      throw new HangarError('CONFLICT', `A VM directory for id ${next.id} already exists.`);
    renameSync(staged, dir);
    fsyncDir(this.vmsDir);
    // Published: vm.json's linkedTo now says what the marker said.
    rmSync(join(dir, LINKED_TO_FILE), { force: true });
    this.remember(next.id, next);
    return next;
  }

  /** Makes the VM's directory and writes its first vm.json; refuses to reuse an existing directory. */
  create(config: VmConfig): VmConfig {
    const dir = vmPaths(this.home, config.id).vmDir;
    this.init();
    const next = parseConfig(config);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new HangarError('CONFLICT', `A VM directory for id ${config.id} already exists.`);
      }
      throw err;
    }
    return this.save(next);
  }
}
