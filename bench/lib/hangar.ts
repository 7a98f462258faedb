// Hangar's side: an in-process engine on a throwaway home (for the figures taken at the engine's
// own API), and a `hangar serve` child (for the figures about the engine process, the host server
// and the UI, which only mean something in the process a user would run).
import { spawn, type ChildProcess } from 'node:child_process';
import { Engine } from '../../src/main/engine/engine';
import { createVm } from '../../src/main/engine/vms/create';
import { connectWs, type ApiClient } from '../../src/main/api/ws-client';
import { CreateVmRequest } from '../../src/shared/requests';
import type { VmConfig } from '../../src/shared/vm';
import { servedBin } from './build';
import { guest, onCleanup, rememberProbe, type Home } from './env';
import { connectUnix, readUntil } from './raw';

export async function openEngine(h: Home): Promise<Engine> {
  const engine = await Engine.open({ home: h.home, env: h.env });
  rememberProbe(h.home);
  onCleanup(async () => {
    for (const vm of engine.list()) {
      if (vm.state !== 'stopped' && vm.state !== 'crashed')
        await engine.stop(vm.id, { force: true }).catch(() => undefined);
    }
    await engine.close();
  });
  return engine;
}

/** A VM of the test guest booted directly from its kernel and initrd, the way the tests make them. */
export function guestRequest(name: string, memoryMiB: number, disk: string | null) {
  const g = guest();
  return {
    name,
    osType: 'linux' as const,
    cpus: 1,
    memoryMiB,
    firmware: 'bios' as const,
    disk: disk ? { kind: 'new' as const, size: disk } : { kind: 'none' as const },
    directBoot: { kernel: g.kernel, initrd: g.initrd, cmdline: g.cmdline },
  };
}

export function makeVm(
  engine: Engine,
  name: string,
  memoryMiB: number,
  disk: string | null,
): Promise<VmConfig> {
  return createVm(CreateVmRequest.parse(guestRequest(name, memoryMiB, disk)), {
    store: engine.store,
    host: engine.host,
    img: engine.img,
    policy: engine.policy,
  });
}

/** Connects to a serial socket and resolves when the guest's ready marker arrives. */
export async function waitReady(
  serialSocket: string,
  timeoutMs = 180_000,
  marker = guest().readyMarker,
): Promise<number> {
  const s = await connectUnix(serialSocket, timeoutMs, 5);
  try {
    const r = await readUntil((fn) => s.on('data', fn), marker, timeoutMs);
    return r.at;
  } finally {
    s.destroy();
  }
}

export interface Served {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  token: string;
  /** The server's secret base path (`/s/<random>/`): its page and WebSockets live under it. */
  basePath: string;
  origin: string;
  api: ApiClient;
  stop(): Promise<void>;
}

export async function startServe(h: Home): Promise<Served> {
  const { bin } = await servedBin();
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: h.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`hangar serve printed no URL: ${out}${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\/s\/[A-Za-z0-9_-]+\/\?token=\S+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    child.once('exit', (code) => reject(new Error(`hangar serve exited (${code}): ${out}${err}`)));
  });
  const u = new URL(url);
  const port = Number(u.port);
  const token = u.searchParams.get('token')!;
  const api = await connectWs({ pid: child.pid!, port, token });
  return {
    child,
    pid: child.pid!,
    url,
    port,
    token,
    basePath: u.pathname,
    origin: `http://127.0.0.1:${port}`,
    api,
    async stop() {
      for (const vm of (await api.call('vm.list')) as { id: string; state: string }[]) {
        if (vm.state !== 'stopped' && vm.state !== 'crashed')
          await api.call('vm.stop', { vm: vm.id, force: true }).catch(() => undefined);
      }
      await api.close();
      child.kill('SIGTERM');
      await exited;
    },
  };
}
