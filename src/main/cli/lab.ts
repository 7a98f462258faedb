// `hangar lab ...`: validate and plan read the file (validate starts no engine, like
// `docker compose config`); up, status, down, reset, destroy, capture and exec go through the API.
// Progress of up/down/destroy comes as lab events: lines on stderr, or JSON lines on stdout with
// --json, so a script sees each VM's steps as they happen.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HangarError } from '../../shared/errors';
import { formatLabError, MAX_LAB_FILE_BYTES, parseLab } from '../../shared/lab/parse';
import type { ExpandedLab } from '../../shared/lab/expand';
import type { LabEvent, LabStatus } from '../../shared/lab/status';
import { call, confirmDelete, type Ctx } from './commands';
import { EXIT } from './exit';
import { int, need, str } from './options';
import { labRun } from './lab-run';
import { GUEST_COMMANDS } from './guest';

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

export function describeStatus(s: LabStatus): string {
  const rows = s.vms.map((v) => {
    const addr = v.addresses.map((a) => `${a.dns} ${a.ip}`).join(', ');
    const fwd = v.forwards
      .map((f) => `localhost:${f.host}->${f.guest}${f.proto === 'udp' ? '/udp' : ''}`)
      .join(' ');
    return `  ${v.vm.padEnd(16)} ${v.state.padEnd(8)} ${v.vmName}  ${addr}${fwd ? `  ${fwd}` : ''}`;
  });
  const mc = s.networks.filter((n) => n.multicast);
  const sw = s.switch
    ? `switch pid ${s.switch.pid}: ${s.switch.segments.map((x) => `${x.name} (${x.ports} port${x.ports === 1 ? '' : 's'})`).join(', ')}`
    : mc.length
      ? `no switch: ${mc.map((n) => `${n.name} on multicast ${n.multicast!.group}:${n.multicast!.port}`).join(', ')} (NOT ISOLATED)`
      : 'switch not running';
  return [
    `lab ${s.name}  ${sw}`,
    ...rows,
    `baseline: ${s.baseline ?? 'none'}${s.saved ? `  saved: ${s.saved}` : ''}`,
  ].join('\n');
}

function source(ctx: Ctx, fileArg: string | undefined) {
  const file = resolve(need(fileArg, 'the lab file'));
  return { text: readLabFile(file), sourceFile: file };
}

/** Prints the lab's events while `fn` runs: lines on stderr, or JSON lines with --json. */
async function withEvents<T>(ctx: Ctx, lab: string | null, fn: () => Promise<T>): Promise<T> {
  const client = await ctx.api();
  client.onEvent((event, data) => {
    if (event !== 'lab') return;
    const e = data as LabEvent;
    if (lab !== null && e.lab !== lab) return;
    if (ctx.json) console.log(JSON.stringify({ event: 'lab', ...e }));
    else process.stderr.write(`${e.vm ?? e.lab}: ${e.phase}${e.detail ? ` ${e.detail}` : ''}\n`);
  });
  return fn();
}

const labArg = (ctx: Ctx) => need(ctx.args[1], 'the lab name');

/** The Hangar name of a lab VM: `<lab>-<vm>` for those the lab made, its own for a borrowed one. */
async function labVmName(ctx: Ctx, lab: string, vm: string): Promise<string> {
  const s = await call(ctx, 'lab.status', { lab });
  const found = s.vms.find((v) => v.vm === vm);
  if (!found)
    throw new HangarError(
      'NOT_FOUND',
      `Lab "${lab}" has no VM "${vm}" (its VMs: ${s.vms.map((v) => v.vm).join(', ')}).`,
    );
  return found.vmName;
}

function up(ctx: Ctx, src: { text: string; sourceFile: string }): Promise<LabStatus> {
  const parsed = parseLab(src.text);
  const name = parsed.ok ? parsed.lab.name : null;
  const only = ctx.values.only;
  const parallel = int(ctx.values, 'parallel');
  return withEvents(ctx, name, () =>
    call(ctx, 'lab.up', {
      ...src,
      ...(Array.isArray(only) ? { only } : {}),
      ...(parallel ? { parallel } : {}),
    }),
  );
}

export async function lab(ctx: Ctx): Promise<number> {
  const [verb, fileArg] = ctx.args;
  switch (verb) {
    case 'validate': {
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
    case 'plan': {
      const r = await call(ctx, 'lab.plan', source(ctx, fileArg));
      ctx.print(
        r,
        [
          `lab ${r.lab}`,
          ...r.plan.map((p) => `  ${p.action.padEnd(8)} ${p.vm}  (${p.vmName}: ${p.why})`),
        ].join('\n'),
      );
      return EXIT.ok;
    }
    case 'up': {
      const s = await up(ctx, source(ctx, fileArg));
      ctx.print(s, describeStatus(s));
      return EXIT.ok;
    }
    case 'run': {
      const src = source(ctx, fileArg);
      const parsed = parseLab(src.text);
      return labRun(ctx, parsed.ok ? parsed.lab.name : null, () => up(ctx, src));
    }
    case 'list': {
      const all = await call(ctx, 'lab.list', {});
      ctx.print(all, all.length ? all.map(describeStatus).join('\n\n') : 'No labs.');
      return EXIT.ok;
    }
    case 'status': {
      const s = await call(ctx, 'lab.status', { lab: labArg(ctx) });
      ctx.print(s, describeStatus(s));
      return EXIT.ok;
    }
    case 'down': {
      const name = labArg(ctx);
      const s = await withEvents(ctx, name, () =>
        call(ctx, 'lab.down', { lab: name, shutdown: ctx.values.shutdown === true }),
      );
      ctx.print(s, describeStatus(s));
      return EXIT.ok;
    }
    case 'reset': {
      const name = labArg(ctx);
      const vm = ctx.args[2];
      const r = await call(ctx, 'lab.reset', { lab: name, ...(vm ? { vm } : {}) });
      ctx.print(r, `${describeStatus(r.status)}\nreset to the lab baseline in ${Math.round(r.ms)} ms`);
      return EXIT.ok;
    }
    case 'destroy': {
      const name = labArg(ctx);
      const all = (await call(ctx, 'lab.status', { lab: name })).vms.filter((v) => v.id);
      const vms = all.filter((v) => !v.borrowed).map((v) => v.vmName);
      const lent = all.filter((v) => v.borrowed).map((v) => v.vmName);
      await confirmDelete(
        ctx,
        `lab "${name}" and its VMs (${vms.join(', ') || 'none left'})` +
          (lent.length ? `; ${lent.join(', ')} will be shut down and given back, not deleted` : ''),
      );
      const r = await withEvents(ctx, name, () => call(ctx, 'lab.destroy', { lab: name }));
      ctx.print(r, `lab ${name} destroyed; deleted ${r.deleted.join(', ') || 'no VMs'}`);
      return EXIT.ok;
    }
    case 'capture': {
      // Like tcpdump -w: runs until Ctrl-C (or --duration seconds), then closes the file.
      const name = labArg(ctx);
      const segment = need(ctx.args[2], 'the segment (network) name');
      const file = resolve(need(str(ctx.values, 'write'), 'the file to write (-w FILE.pcap)'));
      await call(ctx, 'lab.capture', { lab: name, segment, file });
      const seconds = int(ctx.values, 'duration');
      if (!ctx.json) process.stderr.write(`capturing ${name}/${segment} to ${file}; Ctrl-C to stop\n`);
      await new Promise<void>((done) => {
        const timer = seconds !== undefined ? setTimeout(done, seconds * 1000) : null;
        const stop = () => {
          if (timer) clearTimeout(timer);
          done();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      const r = await call(ctx, 'lab.capture', { lab: name, segment, file: null });
      ctx.print(r, `${file}: ${(r as { frames: number }).frames} frames`);
      return EXIT.ok;
    }
    case 'export': {
      // hangar lab export LAB VM... [-w FILE]: the file on stdout, or written (never over another).
      const name = labArg(ctx);
      const vms = ctx.args.slice(2);
      if (!vms.length)
        throw new HangarError(
          'INVALID_INPUT',
          'Name the VMs to export: hangar lab export LAB VM... [-w FILE].',
        );
      const { text } = await call(ctx, 'lab.export', { lab: name, vms });
      const out = str(ctx.values, 'write');
      if (!out) {
        process.stdout.write(text);
        return EXIT.ok;
      }
      try {
        writeFileSync(resolve(out), text, { flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST')
          throw new HangarError(
            'CONFLICT',
            `${out} exists; pick another file name (nothing was overwritten).`,
          );
        throw err;
      }
      ctx.print({ file: resolve(out) }, `wrote ${out}; bring it up with hangar lab up ${out}`);
      return EXIT.ok;
    }
    case 'wait': {
      const name = labArg(ctx);
      const timeoutSec = int(ctx.values, 'timeout') ?? 900;
      const s = await call(ctx, 'lab.wait', { lab: name, timeoutSec });
      ctx.print(s, describeStatus(s));
      return EXIT.ok;
    }
    case 'baseline': {
      const s = await call(ctx, 'lab.baseline', { lab: labArg(ctx) });
      ctx.print(s, describeStatus(s));
      return EXIT.ok;
    }
    case 'ssh': {
      // hangar lab ssh LAB VM [-- CMD...]: hangar ssh on the lab VM's Hangar name.
      const vmName = await labVmName(ctx, labArg(ctx), need(ctx.args[2], 'the lab VM'));
      return (await GUEST_COMMANDS.ssh!({ ...ctx, args: [vmName, ...ctx.args.slice(3)] })) ?? EXIT.ok;
    }
    case 'exec': {
      const name = labArg(ctx);
      const vmName = await labVmName(ctx, name, need(ctx.args[2], 'the lab VM'));
      const cmd = ctx.args.slice(3);
      if (!cmd.length)
        throw new HangarError('INVALID_INPUT', 'Give the command after --: hangar lab exec LAB VM -- CMD.');
      const r = await call(ctx, 'vm.exec', { vm: vmName, command: cmd[0]!, args: cmd.slice(1) });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      return r.exitCode ?? 1;
    }
    default:
      throw new HangarError(
        'INVALID_INPUT',
        `Unknown lab command "${verb ?? ''}": validate, plan, up, run, list, status, wait, export, down, reset, baseline, destroy, capture, exec or ssh.`,
      );
  }
}
