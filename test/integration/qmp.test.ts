// The QMP client against a real QEMU with no machine and no guest: greeting, negotiation, commands,
// QMP errors, and the connection closing when QEMU quits.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QmpClient, QmpCommandError, QmpDisconnectedError, QmpStateError } from '../../src/main/engine/qmp';
import type { QmpCloseReason, QmpLogEntry } from '../../src/main/engine/qmp';

const QEMU = '/usr/bin/qemu-system-x86_64';

let dir: string;
let qemu: ChildProcess;
let exited: Promise<number | null>;
let stderr: string;
let client: QmpClient;
let log: QmpLogEntry[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'qmpit-'));
  const sock = join(dir, 'q.sock');
  stderr = '';
  // No shell: the socket path goes to QEMU as one argument.
  qemu = spawn(
    QEMU,
    [
      '-machine',
      'none',
      '-accel',
      'tcg',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-S',
      '-qmp',
      `unix:${sock},server=on,wait=off`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  qemu.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  exited = new Promise((resolve) => qemu.once('exit', (code) => resolve(code)));
  log = [];
  client = new QmpClient({ path: sock, onLog: (e) => log.push(e) });
});

afterEach(async () => {
  await client.close();
  if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
  await exited;
  rmSync(dir, { recursive: true, force: true });
});

async function connect(): Promise<void> {
  // QEMU creates the socket a moment after it starts; until then connect() sees ENOENT and retries.
  await client.connect({ retryForMs: 10_000 }).catch((err: Error) => {
    throw new Error(`${err.message}\nQEMU stderr: ${stderr}`);
  });
}

describe('QMP against real QEMU', () => {
  it('negotiates, runs commands and keeps QMP error classes', async () => {
    await connect();
    expect(client.state).toBe('ready');
    expect(client.qemuVersion?.major).toBeGreaterThanOrEqual(7);
    expect(log.filter((e) => e.direction === 'send')[0]?.text).toContain('"execute":"qmp_capabilities"');

    const status = await client.execute<{ status: string; running: boolean }>('query-status');
    expect(status.running).toBe(false);
    expect(['prelaunch', 'paused']).toContain(status.status);

    const version = await client.execute<{ qemu: { major: number }; package: string }>('query-version');
    expect(version.qemu.major).toBe(client.qemuVersion?.major);

    const err = await client.execute('no-such-command').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpCommandError);
    expect(err).toMatchObject({ command: 'no-such-command', errorClass: 'CommandNotFound' });

    const bad = await client.execute('query-status', { bogus: 'x"\n' }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ errorClass: 'GenericError' });

    const hmp = await client.execute<string>('human-monitor-command', { 'command-line': 'info version' });
    expect(hmp).toContain(`${version.qemu.major}.`);

    // The client still answers after errors.
    expect((await client.execute<{ status: string }>('query-status')).status).toBe(status.status);
  });

  it('closes when QEMU quits, rejecting anything still waiting', async () => {
    await connect();
    const shutdown = client.waitForEvent<{ guest: boolean; reason: string }>('SHUTDOWN');
    const closed = once(client, 'close') as Promise<[QmpCloseReason]>;

    await client.execute('quit');
    // Sent after quit: QEMU may answer it or exit first, but it must never hang.
    const after = client.execute('query-status').then(
      () => 'answered',
      (e: unknown) => e,
    );

    expect((await shutdown).data).toMatchObject({ guest: false, reason: 'host-qmp-quit' });
    const [reason] = await closed;
    expect(reason.kind).toBe('eof');
    const outcome = await after;
    if (outcome !== 'answered') expect(outcome).toBeInstanceOf(QmpDisconnectedError);
    expect(client.state).toBe('closed');
    await expect(client.execute('query-status')).rejects.toBeInstanceOf(QmpStateError);
    expect(await exited).toBe(0);
  });

  it('reconnects to the same QEMU after close()', async () => {
    await connect();
    await client.close();
    await client.connect();
    expect((await client.execute<{ running: boolean }>('query-status')).running).toBe(false);
  });
});
