// Concurrency: a hundred random, overlapping operations over five VMs from two clients of one
// `hangar serve` at once: the UI (a WebSocket API client, as the browser UI talks) and the CLI
// (thin-client `hangar` processes). Nothing may deadlock (everything ends within a bound), each
// operation succeeds or fails with a clear code, and the final state is consistent: the states
// served match the QEMUs that run, every vm.json parses and snapshot metadata matches the images.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { Engine } from '../../src/main/engine/engine';
import { readEndpoint } from '../../src/main/api/endpoint';
import { connectWs, type ApiClient } from '../../src/main/api/ws-client';
import type { VmSummary } from '../../src/shared/api-types';
import { guest } from '../support/guest';
import { tempHome } from '../support/env';
import { bin, hangar, requireBuild } from '../support/cli';
import { checkHome, killQemusOf, pick, qemuByPidfile, rand, report, sleep } from './helpers';

const OPS = Number(process.env.HANGAR_RELIABILITY_OPS ?? 100);
/** No single operation may take longer than this; a deadlock would. */
const OP_BOUND_MS = 180_000;
const t = tempHome('hangar-rel-');
const env = { ...t.env, NO_COLOR: '1' };
const g = guest();
let server: ChildProcess | null = null;
let ui: ApiClient | null = null;

/** Codes that say clearly why an operation could not run now or on this VM. */
const CLEAR = new Set(['BUSY', 'CONFLICT', 'NOT_FOUND']);

beforeAll(async () => {
  requireBuild();
  server = spawn(process.execPath, [bin, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    server!.stdout!.on('data', (d: Buffer) => d.toString().includes('http://127.0.0.1:') && resolve());
    server!.once('exit', (c) => reject(new Error(`hangar serve exited ${c}`)));
  });
  ui = await connectWs(readEndpoint(t.home, env)!);
});
afterAll(async () => {
  await ui?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
  }
  const engine = await Engine.open({ env: t.env, home: t.home }).catch(() => null);
  if (engine) {
    for (const vm of engine.list())
      if (!engine.isStopped(vm.id)) await engine.stop(vm.id, { force: true }).catch(() => undefined);
    await engine.close();
  }
  killQemusOf(t.home, t.env);
  t.cleanup();
});

interface Outcome {
  client: 'ui' | 'cli';
  op: string;
  code: string; // 'ok' or the error code
  message: string;
  ms: number;
}

type Op = { name: string; ui: () => Promise<unknown>; cli: string[] };

describe('concurrency', () => {
  it(`runs ${OPS} overlapping operations from the UI and the CLI without deadlock`, async () => {
    const api = ui!;
    const main: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = (await api.call('vm.create', {
        name: `con-${i}`,
        osType: 'linux',
        cpus: 1,
        memoryMiB: 128,
        disk: { kind: 'new', size: '64M' },
        directBoot: { kernel: g.kernel, initrd: g.initrd, cmdline: g.manifest.directCmdline },
      })) as { id: string };
      main.push(c.id);
      if (i < 3) await api.call('vm.start', { vm: c.id });
    }
    const clones = async () =>
      ((await api.call('vm.list', {})) as VmSummary[]).filter((v) => !main.includes(v.id)).map((v) => v.id);
    const snapOf = async (vm: string) => {
      const l = (await api.call('snapshot.list', { vm }).catch(() => [])) as { id: string }[];
      return pick(l)?.id;
    };
    const list = (vm: string): Op => ({
      name: 'snapshot list',
      ui: () => api.call('snapshot.list', { vm }),
      cli: ['snapshot', 'list', vm],
    });

    // Each op, as the UI calls it and as the CLI is run for it.
    const ops: (() => Promise<Op>)[] = [
      async () => {
        const vm = pick(main);
        return { name: 'start', ui: () => api.call('vm.start', { vm }), cli: ['start', vm] };
      },
      async () => {
        const vm = pick(main);
        return {
          name: 'force stop',
          ui: () => api.call('vm.stop', { vm, force: true }),
          cli: ['stop', vm, '--force'],
        };
      },
      async () => {
        const vm = pick(main);
        return {
          name: 'stop',
          ui: () => api.call('vm.stop', { vm, timeoutSec: 20 }),
          cli: ['stop', vm, '--timeout', '20'],
        };
      },
      async () => {
        const vm = pick(main);
        return { name: 'pause', ui: () => api.call('vm.pause', { vm }), cli: ['pause', vm] };
      },
      async () => {
        const vm = pick(main);
        return { name: 'resume', ui: () => api.call('vm.resume', { vm }), cli: ['resume', vm] };
      },
      async () => {
        const vm = pick(main);
        return { name: 'reset', ui: () => api.call('vm.reset', { vm }), cli: ['reset', vm] };
      },
      async () => {
        const vm = pick(main);
        const name = `s${rand(0, 1e6)}`;
        return {
          name: 'snapshot',
          ui: () => api.call('snapshot.create', { vm, name }),
          cli: ['snapshot', 'create', vm, name],
        };
      },
      async () => {
        const vm = pick(main);
        const name = `d${rand(0, 1e6)}`;
        return {
          name: 'disk-only snapshot',
          ui: () => api.call('snapshot.create', { vm, name, ram: false }),
          cli: ['snapshot', 'create', vm, name, '--disk-only'],
        };
      },
      async () => {
        const vm = pick(main);
        const s = await snapOf(vm);
        if (!s) return list(vm);
        return {
          name: 'snapshot delete',
          ui: () => api.call('snapshot.delete', { vm, snapshot: s }),
          cli: ['snapshot', 'delete', vm, s],
        };
      },
      async () => {
        const vm = pick(main);
        const s = await snapOf(vm);
        if (!s) return list(vm);
        return {
          name: 'revert',
          ui: () => api.call('snapshot.revert', { vm, snapshot: s }),
          cli: ['snapshot', 'revert', vm, s],
        };
      },
      async () => list(pick(main)),
      async () => {
        const vm = pick(main);
        const d = `edited ${rand(0, 1e6)}`;
        return {
          name: 'edit',
          ui: () => api.call('vm.edit', { vm, patch: { description: d } }),
          cli: ['edit', vm, '--description', d],
        };
      },
      async () => {
        const vm = pick(main);
        const name = `clone-${rand(0, 1e6)}`;
        if ((await clones()).length >= 3)
          return { name: 'list', ui: () => api.call('vm.list', {}), cli: ['list'] };
        return { name: 'clone', ui: () => api.call('vm.clone', { vm, name }), cli: ['clone', vm, name] };
      },
      async () => {
        const vm = pick(await clones());
        if (!vm) return list(pick(main));
        return { name: 'delete', ui: () => api.call('vm.delete', { vm }), cli: ['delete', vm, '--yes'] };
      },
      async () => {
        const vm = pick(main);
        return { name: 'info', ui: () => api.call('vm.get', { vm }), cli: ['info', vm] };
      },
    ];

    const outcomes: Outcome[] = [];
    const runOne = async (client: 'ui' | 'cli') => {
      const op = await pick(ops)();
      const start = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('DEADLOCK?')), OP_BOUND_MS);
      });
      let code = 'ok';
      let message = '';
      try {
        if (client === 'ui') await Promise.race([op.ui(), bound]);
        else {
          const r = await Promise.race([hangar(env, [...op.cli, '--json']), bound]);
          if (r.code !== 0) {
            const e = (() => {
              try {
                return (r.json() as { error: { code: string; message: string } }).error;
              } catch {
                return { code: `exit ${r.code}`, message: r.stderr };
              }
            })();
            code = e.code;
            message = e.message;
          }
        }
      } catch (err) {
        const e = err as { code?: string; message: string };
        code = e.message === 'DEADLOCK?' ? 'DEADLOCK?' : (e.code ?? 'INTERNAL');
        message = e.message;
      } finally {
        clearTimeout(timer);
      }
      outcomes.push({ client, op: op.name, code, message, ms: Date.now() - start });
    };

    // Two clients at once, half the operations each, with overlapping workers: three in the UI,
    // two CLI processes at a time.
    const started = Date.now();
    const issued = { ui: 0, cli: 0 };
    const quota = { ui: Math.ceil(OPS / 2), cli: Math.floor(OPS / 2) };
    const worker = async (client: 'ui' | 'cli') => {
      while (issued[client] < quota[client]) {
        issued[client]++;
        await runOne(client);
        await sleep(rand(0, client === 'ui' ? 600 : 100));
      }
    };
    await Promise.all([worker('ui'), worker('ui'), worker('ui'), worker('cli'), worker('cli')]);
    const elapsed = Date.now() - started;

    const failures: string[] = [];
    // A graceful stop of a guest that has not powered off in time keeps it running and says
    // TIMEOUT (a booting guest may miss the button): a clear outcome for that operation.
    const clear = (o: Outcome) => CLEAR.has(o.code) || (o.op === 'stop' && o.code === 'TIMEOUT');
    for (const o of outcomes)
      if (o.code !== 'ok' && !clear(o))
        failures.push(`${o.client} ${o.op}: ${o.code}: ${o.message.split('\n')[0]}`);

    // Final state as served: each VM's reported state matches whether its QEMU runs.
    const states = (await api.call('vm.list', {})) as VmSummary[];
    const procs = qemuByPidfile();
    const byId = new Map<string, number>();
    for (const [file, pids] of procs) {
      const m = /\/([a-z0-9]{12})\/qemu\.pid$/.exec(file);
      if (m && file.startsWith(t.runtime)) byId.set(m[1]!, pids.length);
    }
    for (const v of states) {
      const up = v.state === 'running' || v.state === 'paused';
      if (up !== (byId.get(v.id) === 1))
        failures.push(`${v.name} is ${v.state}; QEMUs: ${byId.get(v.id) ?? 0}`);
      if (v.busy) failures.push(`${v.name} is still busy with ${v.busy}`);
    }
    // Then the files, by an engine of our own once serve has let go (it detaches; VMs run on).
    await ui!.close();
    ui = null;
    server!.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
    const engine = await Engine.open({ env: t.env, home: t.home });
    const c = await checkHome(engine);
    failures.push(...c.failures, ...c.snapshotMismatches);
    for (const v of states) {
      const now = engine.runtime(v.id).state;
      const was = v.state === 'running' || v.state === 'paused';
      if (was !== (now === 'running' || now === 'paused'))
        failures.push(`${v.name}: served ${v.state}, re-adopted ${now}`);
    }
    const running = engine.list().filter((v) => !engine.isStopped(v.id)).length;
    await engine.close();

    const count = (f: (o: Outcome) => boolean) => outcomes.filter(f).length;
    const codes = new Map<string, number>();
    for (const o of outcomes) codes.set(o.code, (codes.get(o.code) ?? 0) + 1);
    report('concurrency', [
      [
        'operations (UI + CLI)',
        `${outcomes.length} (${count((o) => o.client === 'ui')} + ${count((o) => o.client === 'cli')})`,
      ],
      ['outcomes', [...codes].map(([k, n]) => `${k} ${n}`).join(', ')],
      ['slowest operation (ms)', Math.max(...outcomes.map((o) => o.ms))],
      ['all done in (s)', (elapsed / 1000).toFixed(1)],
      ['VMs at the end (running)', `${states.length} (${running})`],
      ['failures', failures.length],
    ]);
    expect(failures).toEqual([]);
    expect(outcomes.length).toBe(OPS);
  });
});
