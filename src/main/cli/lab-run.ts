// `hangar lab run FILE [--disposable] -- CMD...`: for CI. Brings the lab up, runs CMD on the host
// with the lab's addresses and forwarded ports in its environment, keeps the VMs' logs, and with
// --disposable destroys the lab afterwards whatever happened. The exit code is CMD's.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HangarError } from '../../shared/errors';
import type { LabStatus } from '../../shared/lab/status';
import { hangarHome, vmPaths } from '../engine/config/paths';
import { call, type Ctx } from './commands';
import { str } from './options';

const envName = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '_');

/** HANGAR_LAB, and per VM: _IP (its first lab address), _HOST, and _PORT_<guest port> (the host port). */
export function labEnv(status: LabStatus): Record<string, string> {
  const env: Record<string, string> = { HANGAR_LAB: status.name };
  for (const vm of status.vms) {
    const key = `HANGAR_LAB_${envName(vm.vm)}`;
    env[`${key}_HOST`] = '127.0.0.1';
    if (vm.addresses[0]) env[`${key}_IP`] = vm.addresses[0].ip;
    for (const f of vm.forwards)
      env[`${key}_PORT_${f.guest}${f.proto === 'udp' ? '_UDP' : ''}`] = String(f.host);
  }
  return env;
}

function runCommand(cmd: string[], env: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('error', (err) => fail(new HangarError('NOT_FOUND', `Cannot run ${cmd[0]}: ${err.message}`)));
    child.once('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

/** Copies each VM's serial console and QEMU logs to DIR/<lab>/<vm>/ (before a destroy removes them). */
function keepLogs(ctx: Ctx, status: LabStatus, dir: string): void {
  const home = hangarHome(ctx.env);
  for (const vm of status.vms) {
    if (!vm.id) continue;
    const p = vmPaths(home, vm.id, ctx.env);
    const to = join(dir, status.name, vm.vm);
    mkdirSync(to, { recursive: true });
    for (const f of [p.serialLog, p.qemuLog])
      if (existsSync(f)) copyFileSync(f, join(to, f.slice(f.lastIndexOf('/') + 1)));
  }
}

export async function labRun(ctx: Ctx, name: string | null, up: () => Promise<LabStatus>): Promise<number> {
  const cmd = ctx.args.slice(2);
  if (!cmd.length)
    throw new HangarError(
      'INVALID_INPUT',
      'Give the command to run: hangar lab run FILE [--disposable] -- CMD...',
    );
  const logs = resolve(str(ctx.values, 'logs') ?? 'hangar-lab-logs');
  let cleaned: Promise<void> | null = null;
  // Logs kept and (with --disposable) the lab destroyed whatever happened: a failed up, a failed
  // command, Ctrl-C or a CI runner's SIGTERM.
  const cleanup = () =>
    (cleaned ??= (async () => {
      if (!name) return;
      const status = await call(ctx, 'lab.status', { lab: name }).catch(() => null);
      if (!status) return;
      keepLogs(ctx, status, logs);
      process.stderr.write(`lab ${name}: logs in ${join(logs, name)}\n`);
      if (ctx.values.disposable === true) {
        await call(ctx, 'lab.destroy', { lab: name });
        process.stderr.write(`lab ${name}: destroyed\n`);
      }
    })());
  const onSignal = (signal: NodeJS.Signals) =>
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const status = await up();
    return await runCommand(cmd, labEnv(status));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}
