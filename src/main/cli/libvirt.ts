// `hangar export VM --libvirt [FILE]` and `hangar import --libvirt FILE | --from URI --domain NAME`
// (engine/libvirt). What the domain XML cannot carry is printed, never silently dropped.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HangarError } from '../../shared/errors';
import { call, type Ctx } from './commands';
import { need, path, str } from './options';

const USE_EXPORT =
  'Use: hangar export VM --libvirt [FILE] [--domain-type kvm|qemu] [--network NAME] [--nvram FILE]';
const USE_IMPORT =
  'Use: hangar import --libvirt FILE.xml | --from URI --domain NAME [--copy-disk] [--name NAME]';

function droppedLines(dropped: string[]): string {
  return dropped.length ? `Not carried over:\n${dropped.map((d) => `  - ${d}`).join('\n')}` : '';
}

export async function exportCommand(ctx: Ctx): Promise<void> {
  const [vm, file] = ctx.args;
  if (ctx.values.libvirt !== true) throw new HangarError('INVALID_INPUT', USE_EXPORT);
  const domainType = str(ctx.values, 'domain-type');
  if (domainType !== undefined && domainType !== 'kvm' && domainType !== 'qemu')
    throw new HangarError('INVALID_INPUT', `--domain-type takes kvm or qemu, not "${domainType}".`);
  const r = await call(ctx, 'vm.exportLibvirt', {
    vm: need(vm, 'the VM'),
    ...(domainType ? { domainType } : {}),
    network: str(ctx.values, 'network') ?? null,
    nvramFile: path(ctx.values, 'nvram') ?? null,
  });
  const target = file === undefined ? undefined : resolve(file);
  // Without a file the XML goes to stdout (as virsh dumpxml), and what was dropped to stderr.
  if (!target) {
    if (ctx.json) ctx.print(r, '');
    else {
      process.stdout.write(r.xml);
      if (r.dropped.length) process.stderr.write(`${droppedLines(r.dropped)}\n`);
    }
    return;
  }
  try {
    writeFileSync(target, r.xml, { flag: 'wx', mode: 0o644 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HangarError(
      code === 'EEXIST' ? 'CONFLICT' : 'INVALID_INPUT',
      code === 'EEXIST'
        ? `${target} exists already; Hangar does not overwrite it. Choose another file or remove it.`
        : `Cannot write ${target}: ${(err as Error).message}`,
    );
  }
  const dropped = droppedLines(r.dropped);
  ctx.print(
    { ...r, file: target },
    `Wrote domain "${r.name}" (uuid ${r.uuid}) to ${target}; define it with virsh define ${target}.${dropped ? `\n${dropped}` : ''}`,
  );
}

export async function importCommand(ctx: Ctx): Promise<void> {
  const given = ctx.values.libvirt === true ? ctx.args[0] : undefined;
  const file = given === undefined ? undefined : resolve(given);
  if (ctx.values.libvirt === true && !file) throw new HangarError('INVALID_INPUT', USE_IMPORT);
  const uri = str(ctx.values, 'from');
  const domain = str(ctx.values, 'domain');
  if ((file === undefined) === (uri === undefined) || (uri !== undefined) !== (domain !== undefined))
    throw new HangarError('INVALID_INPUT', USE_IMPORT);
  const r = await call(ctx, 'vm.importLibvirt', {
    source: file ? { file } : { uri: uri!, domain: domain! },
    copyDisks: ctx.values['copy-disk'] === true,
    ...(str(ctx.values, 'name') ? { name: str(ctx.values, 'name') } : {}),
  });
  const dropped = droppedLines(r.dropped);
  ctx.print(
    r,
    `Imported "${r.vm.name}" (${r.vm.id}): ${r.vm.cpus} CPU, ${r.vm.memoryMiB} MiB, ${r.vm.disks.length} disk(s).${dropped ? `\n${dropped}` : ''}`,
  );
}
