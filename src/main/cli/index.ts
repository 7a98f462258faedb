// `hangar`: the command line front end. Text for people, --json for scripts, errors on stderr
// with the exit codes in exit.ts.
import { parseArgs } from 'node:util';
import { toErrorData } from '../../shared/errors';
import type { ApiClient } from '../api/ws-client';
import { COMMANDS, type Ctx } from './commands';
import { GUEST_COMMANDS } from './guest';
import { top } from './top';
import { lab } from './lab';
import { image, os } from './image';
import { backup } from './backup';
import { exportCommand, importCommand } from './libvirt';
import { host, onHost, publish } from './host';
import { connectEngine } from './connect';
import { EXIT, exitCodeFor } from './exit';
import { USAGE } from './help';
import { serve } from './serve';

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  yes: { type: 'boolean', short: 'y' },
  force: { type: 'boolean' },
  paused: { type: 'boolean' },
  reseed: { type: 'boolean' },
  fresh: { type: 'boolean' },
  shrink: { type: 'boolean' },
  tpm: { type: 'boolean' },
  'no-tpm': { type: 'boolean' },
  'no-disk': { type: 'boolean' },
  'no-network': { type: 'boolean' },
  'copy-disk': { type: 'boolean' },
  timeout: { type: 'string' },
  serial: { type: 'string' },
  name: { type: 'string' },
  os: { type: 'string' },
  cpus: { type: 'string' },
  memory: { type: 'string' },
  firmware: { type: 'string' },
  description: { type: 'string' },
  iso: { type: 'string' },
  disk: { type: 'string' },
  'disk-size': { type: 'string' },
  'disk-format': { type: 'string' },
  format: { type: 'string' },
  size: { type: 'string' },
  preallocation: { type: 'string' },
  forward: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  'no-tags': { type: 'boolean' },
  share: { type: 'string' },
  'no-share': { type: 'boolean' },
  'share-readonly': { type: 'boolean' },
  'share-writable': { type: 'boolean' },
  'share-9p': { type: 'boolean' },
  'no-share-9p': { type: 'boolean' },
  kernel: { type: 'string' },
  initrd: { type: 'string' },
  append: { type: 'string' },
  drive: { type: 'string' },
  lines: { type: 'string' },
  port: { type: 'string' },
  bus: { type: 'string' },
  disposable: { type: 'boolean' },
  'force-after': { type: 'string' },
  'backing-chain': { type: 'string', multiple: true },
  'block-device': { type: 'boolean' },
  linked: { type: 'boolean' },
  'disk-only': { type: 'boolean' },
  'delete-file': { type: 'boolean' },
  for: { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  user: { type: 'string' },
  'cloud-image': { type: 'string' },
  image: { type: 'string' },
  'os-variant': { type: 'string' },
  'cloud-init': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'ssh-key': { type: 'string', multiple: true },
  'user-data': { type: 'string' },
  'network-config': { type: 'string' },
  password: { type: 'boolean' },
  iterations: { type: 'string' },
  only: { type: 'string', multiple: true },
  parallel: { type: 'string' },
  // lab up waits for readiness already; --wait is accepted as docker compose up --wait spells it.
  wait: { type: 'boolean' },
  shutdown: { type: 'boolean' },
  write: { type: 'string', short: 'w' },
  duration: { type: 'string' },
  logs: { type: 'string' },
  full: { type: 'boolean' },
  repository: { type: 'string' },
  libvirt: { type: 'boolean' },
  from: { type: 'string' },
  domain: { type: 'string' },
  'domain-type': { type: 'string' },
  network: { type: 'string' },
  nvram: { type: 'string' },
  host: { type: 'string' },
  pool: { type: 'string' },
  'no-start': { type: 'boolean' },
  'keep-last': { type: 'string' },
  drill: { type: 'boolean' },
  'in-place': { type: 'boolean' },
  instant: { type: 'boolean' },
  'passphrase-file': { type: 'string' },
  'key-file': { type: 'string' },
  'keep-daily': { type: 'string' },
  'keep-weekly': { type: 'string' },
} as const;

/** Commands with subcommands or files of their own. */
const GROUPS: Record<string, (ctx: Ctx) => Promise<number | void>> = {
  top,
  lab,
  image,
  os,
  backup,
  export: exportCommand,
  import: importCommand,
  host,
  publish,
};

async function runServe(port: number | undefined): Promise<number> {
  const s = await serve({ port });
  console.log(`Hangar is serving its UI and API. Open this address in a browser on this computer:\n${s.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await s.stop();
  console.log('Stopped serving; running VMs keep running.');
  return EXIT.ok;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    const message = `${(err as Error).message} (a value that starts with a dash goes as --option=value)`;
    if (argv.includes('--json'))
      console.log(JSON.stringify({ ok: false, error: { code: 'INVALID_INPUT', message } }));
    console.error(`hangar: ${message}\nRun hangar --help for the commands and options.`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? EXIT.ok : EXIT.usage;
  }
  const json = values.json === true;
  let client: ApiClient | null = null;
  const ctx: Ctx = {
    args,
    values: values as Ctx['values'],
    json,
    env,
    async api() {
      if (!client) {
        client = await connectEngine(env);
        // Long operations report progress on stderr, so stdout stays clean for scripts.
        if (!json && process.stderr.isTTY) {
          client.onEvent((event, data) => {
            if (event !== 'progress') return;
            const p = data as { operation: string; percent: number; step: string };
            process.stderr.write(
              `\r${p.operation}: ${p.step} ${p.percent}%   ${p.percent >= 100 ? '\n' : ''}`,
            );
          });
        }
      }
      return client;
    },
    print(data, text) {
      console.log(json ? JSON.stringify(data ?? { ok: true }, null, 2) : text);
    },
  };
  try {
    if (command === 'serve') return await runServe(values.port ? Number(values.port) : undefined);
    const run =
      values.host !== undefined && command !== 'publish'
        ? (c: Ctx) => onHost(command, c)
        : (COMMANDS[command] ?? GUEST_COMMANDS[command] ?? GROUPS[command]);
    if (!run) {
      console.error(`hangar: unknown command "${command}". Run hangar --help for the list.`);
      return EXIT.usage;
    }
    const code = await run(ctx);
    return typeof code === 'number' ? code : EXIT.ok;
  } catch (err) {
    const data = toErrorData(err);
    if (json) console.log(JSON.stringify({ ok: false, error: data }));
    console.error(`hangar: ${data.message}`);
    return exitCodeFor(data.code);
  } finally {
    await (client as ApiClient | null)?.close();
  }
}
