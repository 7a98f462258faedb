// Making VMs from the test guest through the engine, as a user would.
import { Engine } from '../../src/main/engine/engine';
import { createVm } from '../../src/main/engine/vms/create';
import { CreateVmRequest, type CreateVmRequest as CreateInput } from '../../src/shared/requests';
import { SerialConsole } from '../../src/main/engine/consoles/serial';
import { guest } from './guest';

export async function makeGuestVm(engine: Engine, name: string, extra: Partial<CreateInput> = {}) {
  const g = guest();
  return createVm(
    CreateVmRequest.parse({
      name,
      osType: 'linux',
      cpus: 1,
      memoryMiB: 256,
      disk: { kind: 'new', size: '64M' },
      iso: g.iso,
      directBoot: { kernel: g.kernel, initrd: g.initrd, cmdline: g.manifest.directCmdline },
      ...extra,
    }),
    { store: engine.store, host: engine.host, img: engine.img, policy: engine.policy },
  );
}

/** Connects to the serial console and waits for the guest's shell. */
export async function shell(engine: Engine, id: string, timeoutMs = 60_000): Promise<SerialConsole> {
  const s = new SerialConsole(engine.paths(id).serialSocket);
  await s.connect();
  await s.waitFor(/HANGAR-GUEST-READY/, timeoutMs);
  await s.waitFor(/hangar-guest# /, 10_000);
  return s;
}

/** Waits for the shell of a guest just started, runs one command that must succeed, returns its output. */
export async function runOnce(engine: Engine, id: string, command: string): Promise<string> {
  const sh = await shell(engine, id, 120_000);
  try {
    const r = await sh.run(command);
    if (r.status !== 0) throw new Error(`"${command}" exited ${r.status}: ${r.output}`);
    return r.output;
  } finally {
    sh.close();
  }
}

export function waitState(engine: Engine, id: string, state: string, timeoutMs = 10_000): Promise<number> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    if (engine.runtime(id).state === state) return resolve(0);
    const timer = setTimeout(() => {
      engine.off('state', on);
      reject(
        new Error(
          `VM ${id} did not become ${state} within ${timeoutMs} ms (it is ${engine.runtime(id).state})`,
        ),
      );
    }, timeoutMs);
    const on = (s: { id: string; state: string }) => {
      if (s.id === id && s.state === state) {
        clearTimeout(timer);
        engine.off('state', on);
        resolve(Date.now() - start);
      }
    };
    engine.on('state', on);
  });
}

/** The shell of a guest that is up already (a lab waited for it): connected, prompt seen. */
export async function promptOf(engine: Engine, name: string): Promise<SerialConsole> {
  const s = new SerialConsole(engine.paths(engine.resolve(name).id).serialSocket);
  await s.connect();
  s.write('\n');
  await s.waitFor(/hangar-guest# /, 20_000);
  return s;
}
