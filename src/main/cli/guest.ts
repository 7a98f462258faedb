// Commands that reach into a running guest: its address, running commands (through the guest
// agent), copying files, ssh through the forwarded port, and waiting for readiness.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { HangarError } from '../../shared/errors';
import { hangarHome } from '../engine/config/paths';
import type { Ctx } from './commands';
import { call } from './commands';
import { int, need, str } from './options';
import { waitSerial } from './serial';
import { vmPaths } from '../engine/config/paths';
import { sshArgs } from '../engine/labs/ssh';

const vmArg = (ctx: Ctx) => need(ctx.args[0], 'the VM (name or id)');

/** `VM:/path` names a file in a guest; anything else is a host path. */
function splitRemote(arg: string): { vm: string; path: string } | null {
  const at = arg.indexOf(':/');
  if (at <= 0 || arg.startsWith('/') || arg.startsWith('.')) return null;
  return { vm: arg.slice(0, at), path: arg.slice(at + 1) };
}

export const GUEST_COMMANDS: Record<string, (ctx: Ctx) => Promise<number | void>> = {
  async ip(ctx) {
    const a = await call(ctx, 'vm.address', { vm: vmArg(ctx) });
    const ip = a.ipv4 ?? a.ipv6;
    if (!ip && !ctx.json)
      throw new HangarError(
        'NOT_FOUND',
        'The guest agent reports no address yet; try hangar wait VM --for ip.',
      );
    const ssh = a.ssh ? `\nssh: ssh -p ${a.ssh.port} ${a.ssh.user ? `${a.ssh.user}@` : ''}${a.ssh.host}` : '';
    ctx.print(a, `${ip}${ssh}`);
  },

  async exec(ctx) {
    const [vm, command, ...args] = ctx.args;
    const env = ctx.values.env;
    const r = await call(ctx, 'vm.exec', {
      vm: need(vm, 'the VM (name or id)'),
      command: need(command, 'the command to run (hangar exec VM -- CMD ARGS)'),
      args,
      env: Array.isArray(env) ? env : [],
      timeoutSec: int(ctx.values, 'timeout'),
    });
    if (ctx.json) {
      ctx.print(r, '');
    } else {
      process.stdout.write(Buffer.from(r.stdout, 'base64'));
      process.stderr.write(Buffer.from(r.stderr, 'base64'));
      if (r.truncated) process.stderr.write('hangar: the output was cut at its size limit.\n');
    }
    // Like docker exec and ssh: the command's own exit code (128+N for a signal).
    return r.exitCode ?? (r.signal !== null ? 128 + r.signal : 1);
  },

  async cp(ctx) {
    const [from, to] = ctx.args;
    const src = splitRemote(need(from, 'what to copy (VM:/path or a host file)'));
    const dst = splitRemote(need(to, 'where to copy it (VM:/path or a host file)'));
    if (!!src === !!dst)
      throw new HangarError(
        'INVALID_INPUT',
        'Copy between the host and a guest: one side is VM:/path, the other a host path.',
      );
    const r = src
      ? await call(ctx, 'vm.copyOut', { vm: src.vm, guestPath: src.path, hostPath: resolve(to!) })
      : await call(ctx, 'vm.copyIn', { vm: dst!.vm, guestPath: dst!.path, hostPath: resolve(from!) });
    ctx.print(
      r,
      `Copied ${r.bytes} bytes (SHA-256 ${r.sha256}${r.verified ? ', checked in the guest' : ''}).`,
    );
  },

  async ssh(ctx) {
    const [vm, ...command] = ctx.args;
    const a = await call(ctx, 'vm.address', { vm: need(vm, 'the VM (name or id)') }).catch(async () => {
      // No agent needed for ssh itself: the forward is in the config.
      const d = await call(ctx, 'vm.get', { vm: vm! });
      const f = d.config.nics.flatMap((n) => n.portForwards).find((p) => p.guestPort === 22);
      return f
        ? { ssh: { host: '127.0.0.1', port: f.hostPort, user: d.config.cloudInit?.user ?? null } }
        : { ssh: null };
    });
    if (!a.ssh)
      throw new HangarError(
        'NOT_FOUND',
        `"${vm}" has no port forward to guest port 22 (hangar edit VM --forward tcp:2222:22).`,
      );
    const args = [
      ...sshArgs(
        hangarHome(ctx.env),
        { host: a.ssh.host, port: a.ssh.port, user: a.ssh.user ?? str(ctx.values, 'user') ?? 'root' },
        false,
      ),
      ...(command.length ? ['--', ...command] : []),
    ];
    process.stderr.write(`hangar: running ssh ${args.join(' ')}\n`);
    return new Promise<number>((resolve, reject) => {
      const child = spawn('ssh', args, { stdio: 'inherit', env: ctx.env });
      child.on('error', (err) =>
        reject(new HangarError('UNSUPPORTED', `Could not run ssh (${err.message}); install openssh-client.`)),
      );
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  },

  async wait(ctx) {
    const wanted = ctx.values.for;
    const list = Array.isArray(wanted) ? wanted : [];
    const serial =
      str(ctx.values, 'serial') ?? list.find((w) => w.startsWith('serial:'))?.slice('serial:'.length);
    const rest = list.filter((w) => !w.startsWith('serial:'));
    if (serial === undefined && !rest.length)
      throw new HangarError(
        'INVALID_INPUT',
        'Missing what to wait for: --for ready|agent|ip|cloud-init|ssh|port:N|serial:REGEX.',
      );
    const timeoutSec = int(ctx.values, 'timeout') ?? 300;
    if (rest.length) {
      const r = await call(ctx, 'vm.wait', { vm: vmArg(ctx), for: rest, timeoutSec });
      if (serial === undefined)
        return ctx.print(r, r.checks.map((c) => `${c.check}: ${c.detail}`).join('\n'));
    }
    await waitSerialCommand(ctx, serial!, timeoutSec);
  },
};

/** Waits for a pattern in serial.log (what QEMU writes whoever is attached), since the latest start. */
async function waitSerialCommand(ctx: Ctx, pattern: string, timeoutSec: number): Promise<void> {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (err) {
    throw new HangarError(
      'INVALID_INPUT',
      `The serial pattern is not a valid regular expression: ${(err as Error).message}`,
    );
  }
  const d = await call(ctx, 'vm.get', { vm: vmArg(ctx) });
  const match = await waitSerial(
    vmPaths(hangarHome(ctx.env), d.config.id, ctx.env).serialLog,
    re,
    timeoutSec * 1000,
  );
  ctx.print({ match }, match);
}
