// `hangar lab validate FILE`: reads a lab file the way `lab up` will and prints either every error
// (FILE:LINE:COLUMN: key: message, as compilers and editors expect) or what the file describes:
// the VMs after matrix expansion, with the address and MAC each NIC will have. No engine is
// started and nothing is created (like `docker compose config`).
import { readFileSync, statSync } from 'node:fs';
import { HangarError } from '../../shared/errors';
import { formatLabError, MAX_LAB_FILE_BYTES, parseLab } from '../../shared/lab/parse';
import type { ExpandedLab } from '../../shared/lab/expand';
import type { Ctx } from './commands';
import { EXIT } from './exit';
import { need } from './options';

function readLabFile(file: string): string {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) throw new HangarError('NOT_FOUND', `No lab file at ${file}.`);
  if (!st.isFile()) throw new HangarError('INVALID_INPUT', `${file} is not a regular file.`);
  if (st.size > MAX_LAB_FILE_BYTES)
    throw new HangarError('INVALID_INPUT', `${file} is ${st.size} bytes; a lab file is at most 1 MiB.`);
  return readFileSync(file, 'utf8');
}

export function describeLab(lab: ExpandedLab): string {
  const nets = lab.networks.map(
    (n) => `  ${n.name}  ${n.subnet}  (switch ${n.switchIp}${n.dhcp ? ', DHCP' : ''})`,
  );
  const vms = lab.vms.map((v) => {
    const nics = v.nics.map((n) => `${n.network} ${n.ip} ${n.mac}`).join('; ') || 'no lab network';
    const after = v.dependsOn.length ? `  after ${v.dependsOn.join(', ')}` : '';
    return `  ${v.name}  ${v.source.kind} ${v.source.value}  ${v.cpus} CPU, ${v.memoryMiB} MiB  ${nics}${after}`;
  });
  return [
    `lab ${lab.name}: ${lab.vms.length} VM${lab.vms.length === 1 ? '' : 's'}, ${lab.networks.length} network${lab.networks.length === 1 ? '' : 's'}${lab.baseline === 'on-ready' ? ', baseline when all are ready' : ''}`,
    ...(nets.length ? ['networks', ...nets] : []),
    'vms',
    ...vms,
  ].join('\n');
}

export async function lab(ctx: Ctx): Promise<number> {
  const [verb, fileArg] = ctx.args;
  if (verb !== 'validate')
    throw new HangarError('INVALID_INPUT', `Unknown lab command "${verb ?? ''}": hangar lab validate FILE.`);
  const file = need(fileArg, 'the lab file');
  const r = parseLab(readLabFile(file));
  if (!r.ok) {
    if (ctx.json) console.log(JSON.stringify({ ok: false, errors: r.errors }, null, 2));
    for (const e of r.errors) console.error(formatLabError(file, e));
    console.error(`${r.errors.length} error${r.errors.length === 1 ? '' : 's'}; nothing was created.`);
    return EXIT.usage;
  }
  ctx.print(r.lab, describeLab(r.lab));
  return EXIT.ok;
}
