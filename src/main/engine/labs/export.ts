// "Export as lab": a lab file written from VMs the user picked, to bring them up together on a
// private network and to share the recipe. A template, or a linked clone of one, becomes a
// `template:` entry (a new linked clone with the same CPUs, memory and forwards); any other VM
// becomes a `vm:` entry, used as it is. The text is checked with the same parser as `lab validate`
// before it is handed out, so an exported file always loads.
import { Document } from 'yaml';
import { HangarError } from '../../../shared/errors';
import { parseLab } from '../../../shared/lab/parse';
import type { VmConfig } from '../../../shared/vm';
import type { EngineContext } from '../context';

export interface ExportRequest {
  /** The lab's name (a DNS label). */
  name: string;
  /** VM names or ids, in the order they go into the file. */
  vms: string[];
  /** The subnet of the one network every VM joins. */
  subnet?: string;
}

/** A DNS label for the entry, from the VM's name, unique in the file. */
function entryName(vm: VmConfig, taken: Set<string>): string {
  const base =
    vm.name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^[^a-z]+/, '')
      .replace(/-+/g, '-')
      .slice(0, 28)
      .replace(/-+$/, '') || 'vm';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

const mib = (n: number) => (n % 1024 === 0 ? `${n / 1024}G` : `${n}M`);

function entryOf(engine: EngineContext, vm: VmConfig): Record<string, unknown> {
  const template = vm.template ? vm : vm.linkedTo ? engine.store.load(vm.linkedTo) : null;
  const nics = [{ network: 'lan' }];
  if (!template) return { vm: vm.name, nics };
  const user = vm.nics.find((n) => n.mode === 'user');
  const forwards = (user?.portForwards ?? [])
    // The cloud image's own ssh forward is made again for the new clone.
    .filter((p) => !(p.guestPort === 22 && p.hostPort === vm.cloudInit?.sshPort))
    .map((p) => `${p.hostPort}:${p.guestPort}${p.protocol === 'udp' ? '/udp' : ''}`);
  return {
    template: template.name,
    cpus: vm.cpus,
    memory: mib(vm.memoryMiB),
    nics,
    ...(forwards.length ? { forwards } : {}),
  };
}

export function exportLab(engine: EngineContext, req: ExportRequest): { text: string } {
  if (!req.vms.length) throw new HangarError('INVALID_INPUT', 'Pick at least one VM to export as a lab.');
  const configs = req.vms.map((ref) => engine.resolve(ref));
  const dup = configs.find((c, i) => configs.findIndex((x) => x.id === c.id) !== i);
  if (dup) throw new HangarError('INVALID_INPUT', `"${dup.name}" is picked twice.`);
  const taken = new Set<string>();
  const vms = Object.fromEntries(configs.map((c) => [entryName(c, taken), entryOf(engine, c)]));
  const doc = new Document({
    version: 1,
    name: req.name,
    networks: { lan: { subnet: req.subnet ?? '10.10.0.0/24' } },
    vms,
  });
  doc.commentBefore = [
    ` Exported by Hangar from ${configs.map((c) => c.name).join(', ')}.`,
    ' template: entries are new linked clones; vm: entries are your VMs, used as they are',
    ' (lab destroy gives them back). Add ready: checks and provision: steps as needed.',
  ].join('\n');
  const text = doc.toString({ lineWidth: 0 });
  const parsed = parseLab(text);
  if (!parsed.ok)
    throw new HangarError(
      'INVALID_INPUT',
      `These VMs do not make a valid lab: ${parsed.errors.map((e) => `${e.key}: ${e.message}`).join('; ')}`,
    );
  return { text };
}
