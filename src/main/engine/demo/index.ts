// The empty state's demo: a small VM a new user sees running within a minute, made from the same
// tiny guest the tests boot (a Debian kernel and BusyBox, built from Debian packages by
// scripts/guest/build.sh, about 25 MB). It is built once into the user's cache, outside Hangar's
// data so the path policy treats it as any ISO the user owns, then a VM boots it from its ISO with
// its web server forwarded to a free port on 127.0.0.1.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import { CreateVmRequest } from '../../../shared/requests';
import type { VmConfig } from '../../../shared/vm';
import type { EngineContext } from '../context';
import { createVm } from '../vms/create';
import { freePort } from '../cloudinit/plan';

/** Where the demo guest is built: $XDG_CACHE_HOME/hangar/demo-guest (~/.cache by default). */
export function demoGuestDir(env: NodeJS.ProcessEnv): string {
  const cache = env.XDG_CACHE_HOME?.startsWith('/')
    ? env.XDG_CACHE_HOME
    : join(env.HOME ?? homedir(), '.cache');
  return join(cache, 'hangar', 'demo-guest');
}

/**
 * scripts/guest/build.sh of Hangar's own checkout or bundle: the first folder above this file whose
 * package.json is Hangar's (out/main when built, src when tested). Never a script elsewhere.
 */
function buildScript(): string | null {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name !== 'hangar') continue;
    } catch {
      continue;
    }
    const script = join(dir, 'scripts', 'guest', 'build.sh');
    return existsSync(script) ? script : null;
  }
  return null;
}

/** Builds the guest (a no-op when it is up to date), reporting the script's steps. */
async function buildGuest(
  dir: string,
  env: NodeJS.ProcessEnv,
  onStep: (step: string) => void,
): Promise<void> {
  const script = buildScript();
  if (!script)
    throw new HangarError(
      'UNSUPPORTED',
      "The demo guest is built by Hangar's scripts/guest/build.sh, which this installation lacks.",
    );
  const child = spawn('bash', [script], {
    env: { ...env, HANGAR_GUEST_OUT: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const read = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    for (const line of text.split('\n')) if (line.startsWith('guest: ')) onStep(line.slice(7));
  };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0)
    throw new HangarError(
      'IO_ERROR',
      `The demo guest could not be built (it needs Debian's package mirror for a kernel and BusyBox): ${tail.trim().split('\n').slice(-3).join(' ')}`,
    );
}

/** One demo at a time: a second request points at the first instead of making another. */
function refuseSecond(engine: EngineContext): void {
  const existing = engine.store
    .list()
    .flatMap((e) => (e.ok ? [e.config] : []))
    .find((c) => c.tags.includes('demo'));
  if (existing)
    throw new HangarError(
      'CONFLICT',
      `There is a demo VM already ("${existing.name}"): start it, or delete it to make a fresh one.`,
      { vm: existing.id },
    );
}

export async function createDemo(engine: EngineContext): Promise<VmConfig> {
  // One at a time: the app and the CLI asking together make one demo, the second is refused.
  return engine.withLocks([{ key: 'demo', mode: 'write', label: 'making the demo' }], 'demo', () =>
    makeDemo(engine),
  );
}

async function makeDemo(engine: EngineContext): Promise<VmConfig> {
  refuseSecond(engine);
  const report = (percent: number, step: string) => engine.progress('demo', 'demo', percent, step);
  try {
    const dir = demoGuestDir(engine.env);
    report(5, 'building the demo guest from Debian packages (once)');
    await buildGuest(dir, engine.env, (step) => report(40, step));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { iso: string };
    report(80, 'creating the demo VM');
    const webPort = await freePort();
    const vm = await createVm(
      CreateVmRequest.parse({
        name: 'demo',
        description:
          "Hangar's demo: a Linux kernel and BusyBox. Its web server is forwarded to this computer " +
          `(http://localhost:${webPort}); the Serial tab has its shell.`,
        osType: 'linux',
        firmware: 'bios',
        cpus: 1,
        memoryMiB: 256,
        disk: { kind: 'new', size: '64M' },
        iso: join(dir, manifest.iso),
        network: {
          portForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: webPort, guestPort: 80 }],
        },
        tags: ['demo'],
      }),
      { store: engine.store, host: engine.host, img: engine.img, policy: engine.policy, env: engine.env },
    );
    engine.emit('config', { id: vm.id, config: vm });
    report(90, 'starting it');
    await engine.start(vm.id);
    engine.endProgress('demo', 'demo', false);
    return vm;
  } catch (err) {
    engine.endProgress('demo', 'demo', true);
    throw err;
  }
}
