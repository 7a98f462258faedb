// Every `hangar` command: what it needs from the command line, and which API call it makes.
import { createInterface } from 'node:readline/promises';
import { writeFileSync } from 'node:fs';
import type { ApiMethod, ApiParamsOf, ApiResults } from '../../shared/api';
import { HangarError } from '../../shared/errors';
import { Tag } from '../../shared/vm';
import { hangarHome, vmPaths } from '../engine/config/paths';
import { probeHost } from '../engine/probe';
import { locate } from '../engine/probe/binaries';
import { QemuImg } from '../engine/storage/qemu-img';
import { ConfigStore } from '../engine/config/store';
import { parseSize } from '../engine/storage/size';
import type { ApiClient } from '../api/ws-client';
import { cloudImageRequest, createRequest, editRequest } from './create';
import { formatDiskInfo, formatInfo, formatList, formatProbe, formatSnapshots } from './format';
import { backingChain, int, need, path, str, type Values } from './options';
import { attachConsole } from './serial';

export interface Ctx {
  args: string[];
  values: Values;
  json: boolean;
  env: NodeJS.ProcessEnv;
  /** Opened on first use, so commands that need no engine never start one. */
  api(): Promise<ApiClient>;
  print(data: unknown, text: string): void;
}

export async function call<M extends ApiMethod>(
  ctx: Ctx,
  method: M,
  params: ApiParamsOf<M>,
): Promise<ApiResults[M]> {
  return (await ctx.api()).call(method, params) as Promise<ApiResults[M]>;
}

const vmArg = (ctx: Ctx) => need(ctx.args[0], 'the VM (name or id)');

export async function confirmDelete(ctx: Ctx, what: string): Promise<void> {
  if (ctx.values.yes) return;
  if (!process.stdin.isTTY)
    throw new HangarError('INVALID_INPUT', `Deleting ${what} needs --yes when not run from a terminal.`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    `Delete ${what}? Files it owns are removed; shared files are kept. [y/N] `,
  );
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new HangarError('CONFLICT', 'Not deleted.');
}

function state(ctx: Ctx, s: ApiResults['vm.start']): void {
  const disposable = s.disposable ? '; disposable: every write is thrown away when it stops' : '';
  ctx.print(s, `${s.state}${s.reason ? ` (${s.reason}${disposable})` : ''}`);
}

type Command = (ctx: Ctx) => Promise<number | void>;

/** A file that belongs to a Hangar VM is resized through the engine, which guards its children. */
async function refuseManaged(ctx: Ctx, file: string): Promise<void> {
  const store = new ConfigStore(hangarHome(ctx.env));
  for (const e of store.list()) {
    if (!e.ok) continue;
    const dir = vmPaths(store.home, e.id, ctx.env).vmDir;
    const d = e.config.disks.find((x) => (x.owned ? `${dir}/${x.file}` : x.path) === file);
    const base = Object.values(e.config.baseline?.bases ?? {}).some((b) => `${dir}/${b}` === file);
    if (d || base) {
      throw new HangarError(
        'CONFLICT',
        base
          ? `${file} is the baseline base of "${e.config.name}"; it must not change.`
          : `${file} is disk ${d!.id} of "${e.config.name}": use hangar disk resize "${e.config.name}" ${d!.id} SIZE.`,
      );
    }
  }
}

export const COMMANDS: Record<string, Command> = {
  async probe(ctx) {
    const info = await probeHost({
      env: ctx.env,
      cacheFile: `${hangarHome(ctx.env)}/cache/probe.json`,
      fresh: ctx.values.fresh === true,
    });
    ctx.print(info, formatProbe(info));
  },
  async list(ctx) {
    // --tag T (repeatable): only the VMs that have every tag given.
    const want = [ctx.values.tag ?? []].flat().map(String);
    for (const t of want) {
      const ok = Tag.safeParse(t);
      if (!ok.success) throw new HangarError('INVALID_INPUT', `--tag ${t}: ${ok.error.issues[0]!.message}`);
    }
    const vms = (await call(ctx, 'vm.list', {})).filter((vm) => want.every((t) => vm.tags?.includes(t)));
    ctx.print(vms, formatList(vms));
  },
  async info(ctx) {
    const d = await call(ctx, 'vm.get', { vm: vmArg(ctx) });
    // The address comes from the guest agent: asked of a running cloud-image VM (which has one),
    // or known already when a running app watches the guest. Others are not kept waiting for an
    // agent that is not there.
    const known = d.readiness?.ip
      ? { ipv4: d.readiness.ip, ipv6: null, interface: null, ssh: d.readiness.ssh }
      : null;
    const address =
      known ??
      (d.state.state === 'running' && d.config.cloudInit
        ? await call(ctx, 'vm.address', { vm: d.config.id }).catch(() => null)
        : null);
    ctx.print(address ? { ...d, address } : d, formatInfo(d, address));
  },
  async create(ctx) {
    const c = await call(ctx, 'vm.create', {
      ...createRequest(ctx.values),
      ...(await cloudImageRequest(ctx.values)),
    });
    ctx.print(c, `Created "${c.name}" (${c.id}).`);
  },
  async demo(ctx) {
    const c = await call(ctx, 'vm.demo', {});
    const web = c.nics[0]?.portForwards[0]?.hostPort;
    ctx.print(
      c,
      `Started the demo VM "${c.name}" (${c.id}): hangar console ${c.id} for its shell` +
        (web ? `, http://localhost:${web} for its web server.` : '.'),
    );
  },
  async edit(ctx) {
    const c = await call(ctx, 'vm.edit', { vm: vmArg(ctx), patch: editRequest(ctx.values) });
    ctx.print(c, `Saved "${c.name}".`);
  },
  async clone(ctx) {
    if (ctx.values.linked) {
      const l = await call(ctx, 'vm.linkedClone', {
        vm: vmArg(ctx),
        name: need(ctx.args[1] ?? str(ctx.values, 'name'), 'the name of the clone'),
      });
      ctx.print(l, `Made the linked clone "${l.name}" (${l.id}).`);
      return;
    }
    const c = await call(ctx, 'vm.clone', {
      vm: vmArg(ctx),
      name: need(ctx.args[1] ?? str(ctx.values, 'name'), 'the name of the clone'),
    });
    ctx.print(c, `Cloned into "${c.name}" (${c.id}).`);
  },
  async delete(ctx) {
    const vm = vmArg(ctx);
    await confirmDelete(ctx, `the VM "${vm}"`);
    const r = await call(ctx, 'vm.delete', { vm });
    ctx.print(
      r,
      [`Removed ${r.removed.length} file(s).`, ...r.kept.map((k) => `Kept ${k} (not owned by the VM)`)].join(
        '\n',
      ),
    );
  },
  start: async (ctx) => {
    // --reseed: a new instance-id first, so cloud-init runs again in this boot.
    if (ctx.values.reseed === true) await call(ctx, 'vm.reseed', { vm: vmArg(ctx) });
    state(
      ctx,
      await call(ctx, 'vm.start', {
        vm: vmArg(ctx),
        paused: ctx.values.paused === true,
        disposable: ctx.values.disposable === true,
      }),
    );
  },
  stop: async (ctx) =>
    state(
      ctx,
      await call(ctx, 'vm.stop', {
        vm: vmArg(ctx),
        force: ctx.values.force === true,
        timeoutSec: int(ctx.values, 'timeout'),
        forceAfterSec: int(ctx.values, 'force-after'),
      }),
    ),
  pause: async (ctx) => state(ctx, await call(ctx, 'vm.pause', { vm: vmArg(ctx) })),
  resume: async (ctx) => state(ctx, await call(ctx, 'vm.resume', { vm: vmArg(ctx) })),
  reset: async (ctx) => state(ctx, await call(ctx, 'vm.reset', { vm: vmArg(ctx) })),
  async snapshot(ctx) {
    const [sub, vm, snap, text] = ctx.args;
    const ref = need(vm, 'the VM (name or id)');
    if (sub === 'rename' || sub === 'describe') {
      const change = sub === 'rename' ? { name: need(text, 'the new name') } : { description: text ?? '' };
      const s = await call(ctx, 'snapshot.edit', {
        vm: ref,
        snapshot: need(snap, 'the snapshot'),
        ...change,
      });
      ctx.print(s, `Saved snapshot "${s.name}".`);
    } else if (sub === 'create') {
      const s = await call(ctx, 'snapshot.create', {
        vm: ref,
        name: need(snap, 'the snapshot name'),
        description: str(ctx.values, 'description'),
        ram: ctx.values['disk-only'] === true ? false : undefined,
      });
      const kind = s.vmState
        ? ', with RAM'
        : s.consistency === 'crash'
          ? ', disks only, crash-consistent: no guest agent answered'
          : ', disks only';
      ctx.print(s, `Took snapshot "${s.name}" (${s.id}${kind}).`);
      if (s.warning) process.stderr.write(`warning: ${s.warning}\n`);
    } else if (sub === 'list') {
      const l = await call(ctx, 'snapshot.list', { vm: ref });
      ctx.print(l, formatSnapshots(l));
    } else if (sub === 'revert') {
      const s = await call(ctx, 'snapshot.revert', { vm: ref, snapshot: need(snap, 'the snapshot') });
      ctx.print(s, `Reverted to "${s.name}".`);
    } else if (sub === 'delete') {
      await call(ctx, 'snapshot.delete', { vm: ref, snapshot: need(snap, 'the snapshot') });
      ctx.print(null, 'Deleted.');
    } else
      throw new HangarError('INVALID_INPUT', 'Use: hangar snapshot create|list|revert|delete VM [SNAPSHOT]');
  },
  async disk(ctx) {
    const [sub, first, second] = ctx.args;
    if (sub === 'add') {
      const existing = path(ctx.values, 'disk');
      const format = str(ctx.values, 'format') as 'qcow2' | 'raw' | undefined;
      const bus = str(ctx.values, 'bus') as 'virtio' | 'sata' | 'ide' | 'scsi' | undefined;
      const disk = existing
        ? {
            kind: 'existing' as const,
            path: existing,
            copy: ctx.values['copy-disk'] === true,
            confirmChain: backingChain(ctx.values),
            blockDevice: ctx.values['block-device'] === true,
            format,
            bus,
          }
        : {
            kind: 'new' as const,
            size: need(str(ctx.values, 'size'), '--size (e.g. 10G) or --disk PATH'),
            format: format ?? 'qcow2',
            bus,
          };
      const c = await call(ctx, 'disk.add', { vm: need(first, 'the VM'), disk });
      ctx.print(c, `Added ${c.disks.at(-1)!.id} to "${c.name}".`);
      return;
    }
    if (sub === 'remove') {
      const r = await call(ctx, 'disk.remove', {
        vm: need(first, 'the VM'),
        disk: need(second, 'the disk id (see hangar info)'),
        deleteFile: ctx.values['delete-file'] === true,
      });
      ctx.print(
        r,
        r.deleted ? `Removed the disk and deleted ${r.deleted}.` : 'Removed the disk; its file was kept.',
      );
      return;
    }
    if ((sub === 'resize' && ctx.args.length === 4) || sub === 'convert') {
      // The VM form goes through the engine, which knows what other images are built on.
      const [vm, disk, value] = ctx.args.slice(1);
      const c =
        sub === 'resize'
          ? await call(ctx, 'disk.resize', {
              vm: need(vm, 'the VM'),
              disk: need(disk, 'the disk id'),
              size: need(value, 'the new size'),
              shrink: ctx.values.shrink === true,
            })
          : await call(ctx, 'disk.convert', {
              vm: need(vm, 'the VM'),
              disk: need(disk, 'the disk id'),
              format: need(value, 'the format (qcow2 or raw)') as 'qcow2',
            });
      ctx.print(c, sub === 'resize' ? `Resized ${disk}.` : `Converted ${disk}.`);
      return;
    }
    // Disk images are the user's own files: qemu-img runs here, no engine needed.
    const img = new QemuImg(locate('qemu-img', ctx.env.HANGAR_QEMU_IMG, ctx.env));
    const p = path({ p: need(first, 'the image path') }, 'p')!;
    if (sub === 'create') {
      const format = (str(ctx.values, 'format') ?? 'qcow2') as 'qcow2' | 'raw';
      const size = parseSize(need(second ?? str(ctx.values, 'size'), 'the size (e.g. 20G)'));
      await img.create(p, {
        format,
        sizeBytes: size,
        preallocation: (str(ctx.values, 'preallocation') ?? 'off') as 'off',
      });
      ctx.print({ path: p }, `Created ${p}.`);
    } else if (sub === 'info') {
      const i = await img.info(p);
      const out = {
        format: i.format,
        virtualSize: i['virtual-size'],
        actualSize: i['actual-size'] ?? null,
        backingFile: i['full-backing-filename'] ?? null,
        snapshots: i.snapshots?.length ?? 0,
      };
      ctx.print(out, formatDiskInfo(out));
    } else if (sub === 'resize') {
      await refuseManaged(ctx, p);
      const format = (await img.info(p)).format;
      await img.resize(p, format, parseSize(need(second, 'the new size')), {
        allowShrink: ctx.values.shrink === true,
      });
      ctx.print({ path: p }, `Resized ${p}.`);
    } else if (sub === 'check') {
      const r = await img.check(p, (await img.info(p)).format);
      const bad = (r.corruptions ?? 0) + (r['check-errors'] ?? 0);
      ctx.print(
        r,
        bad
          ? `${bad} problem(s) found; see qemu-img check -r for repair.`
          : `No errors (${r.leaks ?? 0} leaked clusters).`,
      );
      if (bad) throw new HangarError('IO_ERROR', `${p} has ${bad} problem(s).`);
    } else
      throw new HangarError(
        'INVALID_INPUT',
        'Use: hangar disk create|info|resize|check PATH, or disk add VM / disk remove VM DISK',
      );
  },
  async 'make-independent'(ctx) {
    const c = await call(ctx, 'vm.makeIndependent', { vm: vmArg(ctx) });
    ctx.print(c, `"${c.name}" no longer depends on its template.`);
  },
  async template(ctx) {
    const [sub, vm] = ctx.args;
    if (sub !== 'set' && sub !== 'unset')
      throw new HangarError('INVALID_INPUT', 'Use: hangar template set|unset VM');
    const c = await call(ctx, 'template.set', { vm: need(vm, 'the VM'), template: sub === 'set' });
    ctx.print(
      c,
      c.template
        ? `"${c.name}" is a template: make linked clones with hangar clone --linked.`
        : `"${c.name}" is a VM again.`,
    );
  },
  async baseline(ctx) {
    const [sub, vm] = ctx.args;
    const ref = need(vm, 'the VM');
    if (sub === 'set') {
      const c = await call(ctx, 'baseline.set', { vm: ref });
      ctx.print(c, `Baseline set for "${c.name}". hangar reset-to-baseline brings it back here.`);
    } else if (sub === 'reset') {
      const r = await call(ctx, 'baseline.reset', { vm: ref });
      ctx.print(r, `Reset "${r.config.name}" to its baseline in ${r.ms} ms.`);
    } else if (sub === 'clear') {
      const c = await call(ctx, 'baseline.clear', { vm: ref });
      ctx.print(c, `"${c.name}" has no baseline any more; its current state is kept.`);
    } else throw new HangarError('INVALID_INPUT', 'Use: hangar baseline set|reset|clear VM');
  },
  async 'reset-to-baseline'(ctx) {
    const r = await call(ctx, 'baseline.reset', { vm: vmArg(ctx) });
    ctx.print(r, `Reset "${r.config.name}" to its baseline in ${r.ms} ms.`);
  },
  async media(ctx) {
    const [sub, vm, iso] = ctx.args;
    const drive = str(ctx.values, 'drive');
    if (sub === 'insert') {
      await call(ctx, 'media.insert', {
        vm: need(vm, 'the VM'),
        path: path({ p: need(iso, 'the ISO path') }, 'p')!,
        drive,
      });
      ctx.print(null, 'Inserted.');
    } else if (sub === 'eject') {
      await call(ctx, 'media.eject', { vm: need(vm, 'the VM'), drive });
      ctx.print(null, 'Ejected.');
    } else throw new HangarError('INVALID_INPUT', 'Use: hangar media insert VM ISO | hangar media eject VM');
  },
  async console(ctx) {
    const d = await call(ctx, 'vm.get', { vm: vmArg(ctx) });
    if (d.state.state !== 'running' && d.state.state !== 'paused')
      throw new HangarError('CONFLICT', `"${d.config.name}" is ${d.state.state}; start it first.`);
    await attachConsole(vmPaths(hangarHome(ctx.env), d.config.id, ctx.env).serialSocket);
  },
  async screenshot(ctx) {
    const file = path({ p: need(ctx.args[1], 'the PNG file to write') }, 'p')!;
    const { png } = await call(ctx, 'vm.screenshot', { vm: vmArg(ctx) });
    writeFileSync(file, Buffer.from(png, 'base64'));
    ctx.print({ file }, `Saved ${file}.`);
  },
  async 'send-keys'(ctx) {
    const vm = vmArg(ctx);
    for (const keys of need(
      ctx.args.length > 1 ? ctx.args.slice(1) : undefined,
      'the keys, e.g. ctrl-alt-delete',
    )) {
      await call(ctx, 'vm.sendKeys', { vm, keys });
    }
    ctx.print(null, 'Sent.');
  },
  async monitor(ctx) {
    const r = await call(ctx, 'vm.monitor', {
      vm: vmArg(ctx),
      command: need(ctx.args.slice(1).join(' ') || undefined, 'the monitor command'),
    });
    ctx.print(r, r.output.trimEnd());
  },
  async log(ctx) {
    const r = await call(ctx, 'vm.log', { vm: vmArg(ctx), lines: int(ctx.values, 'lines') });
    ctx.print(r, r.text);
  },
  async history(ctx) {
    const r = await call(ctx, 'vm.history', { vm: vmArg(ctx), limit: int(ctx.values, 'lines') });
    const line = (e: (typeof r)[number]) =>
      `${e.at}  ${e.kind === 'state' ? 'state    ' : 'operation'}  ${e.what}${e.ok ? '' : ' FAILED'}` +
      `${e.ms !== undefined ? ` (${e.ms} ms)` : ''}${e.detail ? `: ${e.detail}` : ''}`;
    // Oldest first on a terminal, as a log reads; the API answers newest first.
    ctx.print(r, r.length ? r.slice().reverse().map(line).join('\n') : 'No history yet.');
  },
};
