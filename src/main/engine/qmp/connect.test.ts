import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QmpClient } from './client';
import { QmpDisconnectedError, QmpStateError } from './errors';
import type { QmpProtocolError } from './errors';
import { FakeQmpPeer } from './fake-peer';
import type { QmpClientOptions, QmpLogEntry } from './types';

let peer: FakeQmpPeer;
let client: QmpClient;
let protocolErrors: QmpProtocolError[];
let logs: QmpLogEntry[];

function makeClient(options: Partial<QmpClientOptions> = {}): QmpClient {
  const c = new QmpClient({ path: peer.path, onLog: (e) => logs.push(e), ...options });
  c.on('protocol-error', (err) => protocolErrors.push(err));
  return c;
}

beforeEach(async () => {
  protocolErrors = [];
  logs = [];
  peer = await FakeQmpPeer.start();
  client = makeClient();
});

afterEach(async () => {
  await client.close();
  await peer.close();
});

describe('handshake failures', () => {
  beforeEach(async () => {
    await peer.close();
    peer = await FakeQmpPeer.start({ greet: false });
    client = makeClient();
  });

  it('fails connect when the peer speaks before greeting', async () => {
    const connected = client.connect();
    await peer.waitForConnection();
    peer.sendEvent('STOP');
    await expect(connected).rejects.toMatchObject({ name: 'QmpConnectError', code: 'PROTOCOL' });
    expect(protocolErrors.map((e) => e.kind)).toEqual(['expected-greeting']);
    expect(client.state).toBe('closed');
  });

  it('times out a connect whose greeting never comes', async () => {
    const connected = client.connect({ timeoutMs: 100 });
    const queued = client.execute('query-status').catch((e: unknown) => e);
    await expect(connected).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(await queued).toBeInstanceOf(QmpDisconnectedError);
    expect(client.state).toBe('closed');
  });

  it('fails connect promptly when QEMU hangs up right after its greeting', async () => {
    const connected = client.connect();
    await peer.waitForConnection();
    peer.sendGreeting();
    peer.dropConnection();
    await expect(connected).rejects.toMatchObject({ name: 'QmpConnectError', code: 'CLOSED' });
    expect(client.state).toBe('closed');
  });

  it('fails connect when qmp_capabilities is refused', async () => {
    peer.handle('qmp_capabilities', () => ({ error: { class: 'GenericError', desc: 'no' } }));
    const connected = client.connect();
    await peer.waitForConnection();
    peer.sendGreeting();
    await expect(connected).rejects.toMatchObject({ code: 'NEGOTIATION' });
    expect(client.state).toBe('closed');
  });
});

describe('connecting', () => {
  it('gives a clear error for a socket path that does not exist', async () => {
    const missing = new QmpClient('/tmp/hangar-no-such-dir/q.sock');
    const err = await missing.connect().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'QmpConnectError', code: 'ENOENT' });
    expect((err as Error).message).toContain('/tmp/hangar-no-such-dir/q.sock');
    expect((err as Error).message).toContain('does not exist');
    expect(missing.state).toBe('closed');
  });

  it('retries until the socket appears', async () => {
    await peer.close();
    const dir = mkdtempSync(join(tmpdir(), 'qmp-'));
    const path = join(dir, 'q.sock');
    try {
      let firstFailure!: () => void;
      const failed = new Promise<void>((resolve) => (firstFailure = resolve));
      client = makeClient({ path, onLog: (e) => e.text.startsWith('waiting for') && firstFailure() });
      const connected = client.connect({ retryForMs: 5000, retryIntervalMs: 10 });
      // Start the peer only once the first attempt has failed.
      await failed;
      peer = await FakeQmpPeer.start({ path });
      await connected;
      expect(await client.execute('query-status')).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops retrying when the signal aborts or close() is called', async () => {
    const missing = new QmpClient('/tmp/hangar-no-such-dir/q.sock');
    const abort = new AbortController();
    const connected = missing.connect({ retryForMs: 60_000, signal: abort.signal });
    abort.abort();
    await expect(connected).rejects.toMatchObject({ code: 'ABORTED' });

    const again = missing.connect({ retryForMs: 60_000 });
    await missing.close();
    await expect(again).rejects.toMatchObject({ code: 'CLOSED' });
    expect(missing.state).toBe('closed');
  });

  it('refuses a second connect while connected', async () => {
    await client.connect();
    await expect(client.connect()).rejects.toBeInstanceOf(QmpStateError);
  });
});
