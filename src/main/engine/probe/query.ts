// Asks a throwaway QEMU (no machine, no guest) what it supports, over QMP: structured answers
// instead of parsing `-machine help` text.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import { QmpClient } from '../qmp';

interface CpuDefinition {
  name: string;
  'unavailable-features'?: string[];
  deprecated?: boolean;
}
interface MachineEntry {
  name: string;
  alias?: string;
  'is-default'?: boolean;
  deprecated?: boolean;
}

export interface QemuCapabilities {
  cpuModels: string[];
  machines: { name: string; alias?: string; isDefault: boolean }[];
}

export async function queryQemu(qemu: string, accel: 'kvm' | 'tcg'): Promise<QemuCapabilities> {
  const dir = mkdtempSync(join(tmpdir(), 'hangar-probe-'));
  const sock = join(dir, 'qmp.sock');
  const child = spawn(
    qemu,
    [
      '-machine',
      'none',
      '-accel',
      accel,
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-S',
      '-chardev',
      `socket,id=qmp,path=${sock.replaceAll(',', ',,')},server=on,wait=off`,
      '-mon',
      'chardev=qmp,mode=control',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const client = new QmpClient(sock);
  try {
    await client.connect({ retryUntil: Date.now() + 10_000 }).catch((err: Error) => {
      throw new HangarError(
        'QEMU_FAILED',
        `QEMU did not start for the probe: ${stderr.trim() || err.message}`,
      );
    });
    const cpus = await client.execute<CpuDefinition[]>('query-cpu-definitions');
    const machines = await client.execute<MachineEntry[]>('query-machines');
    return {
      cpuModels: cpus
        .filter((c) => !c.deprecated && (c['unavailable-features'] ?? []).length === 0)
        .map((c) => c.name)
        .sort(),
      machines: machines
        .filter((m) => !m.deprecated && m.name !== 'none')
        .map((m) => ({
          name: m.name,
          ...(m.alias ? { alias: m.alias } : {}),
          isDefault: m['is-default'] === true,
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  } finally {
    await client.close();
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}
