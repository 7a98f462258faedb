import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QmpClient } from './client';
import {
  QmpCommandError,
  QmpDisconnectedError,
  QmpEventTimeoutError,
  QmpProtocolError,
  QmpStateError,
  QmpTimeoutError,
} from './errors';
import { FakeQmpPeer } from './fake-peer';
import { LineSplitter } from './lines';
import type { QmpClientOptions, QmpCloseReason, QmpEvent, QmpLogEntry } from './types';

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

describe('negotiation', () => {
  it('reads the greeting and negotiates capabilities before the first command', async () => {
    await peer.close();
    peer = await FakeQmpPeer.start({ greet: false, version: { major: 7, minor: 2, micro: 5 } });
    client = makeClient();
    const states: string[] = [];
    client.on('state', (next) => states.push(next));

    const connected = client.connect();
    // Issued before negotiation: queued, not sent.
    const status = client.execute('query-status');
    await peer.waitForConnection();
    expect(peer.received).toEqual([]);
    peer.sendGreeting();

    const greeting = await connected;
    expect(await status).toEqual({});
    expect(greeting.version.qemu).toEqual({ major: 7, minor: 2, micro: 5 });
    expect(client.qemuVersion?.major).toBe(7);
    expect(client.state).toBe('ready');
    expect(states).toEqual(['connecting', 'negotiating', 'ready']);
    expect(peer.received.map((c) => c.execute)).toEqual(['qmp_capabilities', 'query-status']);
    const ids = peer.received.map((c) => c.id);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(id).toMatch(/^hangar-\d+$/);
  });

  it('rejects commands when no connect is under way', async () => {
    await expect(client.execute('query-status')).rejects.toBeInstanceOf(QmpStateError);
  });
});

describe('commands and replies', () => {
  beforeEach(async () => {
    await client.connect();
  });

  it('matches out-of-order replies by id', async () => {
    peer.handle('first', () => undefined);
    peer.handle('second', () => undefined);
    const first = client.execute('first');
    const second = client.execute('second');
    const c1 = await peer.waitForCommand('first');
    const c2 = await peer.waitForCommand('second');
    peer.reply(c2, 'two');
    peer.reply(c1, 'one');
    expect(await first).toBe('one');
    expect(await second).toBe('two');
  });

  it('ignores replies with an unknown id or no id without disturbing pending calls', async () => {
    peer.handle('query-x', (cmd, p) => {
      p.send({ return: 'bogus', id: 'hangar-999999' });
      p.send({ error: { class: 'GenericError', desc: 'QMP input member is unexpected' } });
      return { return: { answer: cmd.arguments?.n } };
    });
    const [a, b] = await Promise.all([
      client.execute('query-x', { n: 1 }),
      client.execute('query-x', { n: 2 }),
    ]);
    expect(a).toEqual({ answer: 1 });
    expect(b).toEqual({ answer: 2 });
    expect(protocolErrors.map((e) => [e.kind, e.fatal])).toEqual([
      ['unknown-id', false],
      ['reply-without-id', false],
      ['unknown-id', false],
      ['reply-without-id', false],
    ]);
    expect(client.state).toBe('ready');
  });

  it('keeps the QMP error class and description', async () => {
    peer.handle('device_del', () => ({
      error: { class: 'DeviceNotFound', desc: "Device 'nic9' not found" },
    }));
    const err = await client.execute('device_del', { id: 'nic9' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpCommandError);
    expect(err).toMatchObject({
      command: 'device_del',
      errorClass: 'DeviceNotFound',
      desc: "Device 'nic9' not found",
    });
    expect(client.state).toBe('ready');
  });

  it('times out a command that never answers, ignores its late reply, and keeps working', async () => {
    peer.handle('hang', () => undefined);
    const err = await client.execute('hang', undefined, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpTimeoutError);
    expect(err).toMatchObject({ command: 'hang', timeoutMs: 50 });

    peer.reply(await peer.waitForCommand('hang'), 'too late');
    expect(await client.execute('query-status')).toEqual({});
    expect(protocolErrors).toEqual([]);
    expect(logs.some((l) => l.direction === 'note' && l.text.includes('late reply'))).toBe(true);
  });

  it('sends arguments with quotes, newlines, backslashes and unicode intact', async () => {
    const text = 'say "hi"\n\\n {"execute":"quit"}\r\t\u2028 é € 😀 \u0000 end';
    await client.execute('human-monitor-command', { 'command-line': text, nested: { list: [text] } });
    const got = await peer.waitForCommand('human-monitor-command');
    expect(got.arguments).toEqual({ 'command-line': text, nested: { list: [text] } });
    expect(got.raw).not.toContain('\n');
  });

  it('logs sent and received lines, cutting long ones', async () => {
    peer.handle('big', () => ({ return: 'y'.repeat(10_000) }));
    await client.execute('big');
    const recv = logs.find((l) => l.direction === 'recv' && l.text.includes('yyy'));
    expect(recv?.text.length).toBeLessThan(2100);
    expect(recv?.text).toContain('chars)');
    expect(logs.some((l) => l.direction === 'send' && l.text.includes('"execute":"big"'))).toBe(true);
  });

  it('never logs the arguments of a secret object (they hold a key)', async () => {
    peer.handle('object-add', () => ({ return: {} }));
    const data = Buffer.from('correct horse').toString('base64');
    await client.execute('object-add', { 'qom-type': 'secret', id: 'k', data, format: 'base64' });
    expect(peer.received.at(-1)?.arguments).toMatchObject({ data });
    const sent = logs.filter((l) => l.direction === 'send' && l.text.includes('object-add'));
    expect(sent.map((l) => l.text)).toEqual([
      '{"execute":"object-add","arguments":"(a secret: not logged)"}',
    ]);
    expect(logs.some((l) => l.text.includes(data))).toBe(false);
  });
});

describe('events', () => {
  beforeEach(async () => {
    await client.connect();
  });

  it('delivers an event that arrives between commands', async () => {
    const seen: QmpEvent[] = [];
    const off = client.onEvent('STOP', (e) => seen.push(e));
    const all: string[] = [];
    client.on('event', (e) => all.push(e.event));

    await client.execute('query-status');
    const stopped = client.waitForEvent('STOP');
    peer.sendEvent('STOP');
    const ev = await stopped;
    await client.execute('query-status');

    expect(ev.event).toBe('STOP');
    expect(ev.timestamp.seconds).toBe(1700000000);
    expect(seen).toHaveLength(1);
    expect(all).toEqual(['STOP']);
    off();
    peer.sendEvent('STOP');
    await client.execute('query-status');
    expect(seen).toHaveLength(1);
    expect(all).toEqual(['STOP', 'STOP']);
  });

  it('delivers an event written before the reply of the command that caused it', async () => {
    peer.handle('stop', (_cmd, p) => {
      p.sendEvent('STOP');
      return { return: {} };
    });
    const order: string[] = [];
    const stopped = client.waitForEvent('STOP').then((e) => order.push(`event ${e.event}`));
    await client.execute('stop').then(() => order.push('reply'));
    await stopped;
    expect(order).toEqual(['event STOP', 'reply']);
  });

  it('waits for the event that passes the predicate', async () => {
    peer.handle('device_del', (cmd, p) => {
      p.sendEvent('DEVICE_DELETED', { device: 'other' });
      p.sendEvent('DEVICE_DELETED', { device: cmd.arguments?.id });
      return { return: {} };
    });
    const deleted = client.waitForEvent<{ device: string }>('DEVICE_DELETED', {
      predicate: (e) => e.data.device === 'nic1',
    });
    await client.execute('device_del', { id: 'nic1' });
    expect((await deleted).data.device).toBe('nic1');
  });

  it('times out a wait for an event that never comes', async () => {
    await expect(client.waitForEvent('RESET', { timeoutMs: 30 })).rejects.toBeInstanceOf(
      QmpEventTimeoutError,
    );
  });

  it('keeps going when a listener throws', async () => {
    client.onEvent('STOP', () => {
      throw new Error('listener bug');
    });
    const stopped = client.waitForEvent('STOP');
    peer.sendEvent('STOP');
    await stopped;
    expect(await client.execute('query-status')).toEqual({});
  });
});

describe('disconnects', () => {
  beforeEach(async () => {
    await client.connect();
  });

  it('rejects a command pending when the peer hangs up, and emits close', async () => {
    peer.handle('hang', () => undefined);
    const closed = once(client, 'close') as Promise<[QmpCloseReason]>;
    const pending = client.execute('hang').catch((e: unknown) => e);
    const event = client.waitForEvent('SHUTDOWN').catch((e: unknown) => e);
    await peer.waitForCommand('hang');
    peer.dropConnection();

    const err = await pending;
    expect(err).toBeInstanceOf(QmpDisconnectedError);
    expect(err).toMatchObject({ command: 'hang', reason: { kind: 'eof' } });
    expect(await event).toBeInstanceOf(QmpDisconnectedError);
    const [reason] = await closed;
    expect(reason.kind).toBe('eof');
    expect(client.state).toBe('closed');
    await expect(client.execute('query-status')).rejects.toBeInstanceOf(QmpStateError);
  });

  it('rejects pending commands when close() is called', async () => {
    peer.handle('hang', () => undefined);
    const pending = client.execute('hang').catch((e: unknown) => e);
    await peer.waitForCommand('hang');
    await client.close();
    expect(await pending).toMatchObject({ name: 'QmpDisconnectedError', reason: { kind: 'requested' } });
    expect(client.state).toBe('closed');
  });

  it('reconnects the same client after the peer closes', async () => {
    const closed = once(client, 'close');
    peer.dropConnection();
    await closed;
    const greeting = await client.connect();
    expect(greeting.version.qemu.major).toBe(7);
    expect(await client.execute('query-status')).toEqual({});
    expect(peer.connections).toBe(2);
    const second = peer.received.filter((c) => c.connection === 2).map((c) => c.execute);
    expect(second).toEqual(['qmp_capabilities', 'query-status']);
  });

  it('reconnects after close()', async () => {
    await client.close();
    await client.connect();
    expect(await client.execute('query-status')).toEqual({});
  });
});

describe('line framing', () => {
  it('closes the connection on a line over the limit without a newline', async () => {
    client = makeClient({ maxLineBytes: 1024 });
    await client.connect();
    peer.handle('big', () => undefined);
    const closed = once(client, 'close') as Promise<[QmpCloseReason]>;
    const pending = client.execute('big').catch((e: unknown) => e);
    await peer.waitForCommand('big');
    peer.writeRaw(`{"return": "${'x'.repeat(5000)}`);

    const err = await pending;
    expect(err).toBeInstanceOf(QmpDisconnectedError);
    expect((err as QmpDisconnectedError).reason.kind).toBe('protocol-error');
    expect((err as Error).cause).toBeInstanceOf(QmpProtocolError);
    expect(protocolErrors.map((e) => [e.kind, e.fatal])).toEqual([['line-too-long', true]]);
    expect((await closed)[0].kind).toBe('protocol-error');
    expect(client.state).toBe('closed');
  });

  it('decodes a UTF-8 character split across two writes', async () => {
    await client.connect();
    peer.handle('echo', () => undefined);
    const result = client.execute('echo');
    const cmd = await peer.waitForCommand('echo');
    const text = 'héllo € 😀';
    const bytes = Buffer.from(`${JSON.stringify({ return: text, id: cmd.id })}\r\n`);
    const cut = bytes.indexOf(Buffer.from('😀')) + 2;
    peer.writeRaw(bytes.subarray(0, cut));
    await peer.flush();
    peer.writeRaw(bytes.subarray(cut));
    expect(await result).toBe(text);
  });

  it('splits lines on bytes, whatever the chunk boundaries', () => {
    const input = Buffer.from('{"a":"é€😀"}\r\n\n{"b":2}\n{"c":"');
    for (let size = 1; size <= 4; size++) {
      const splitter = new LineSplitter(64);
      const lines: string[] = [];
      for (let i = 0; i < input.length; i += size) lines.push(...splitter.push(input.subarray(i, i + size)));
      expect(lines).toEqual(['{"a":"é€😀"}\r', '', '{"b":2}']);
      expect(splitter.overflow).toBeUndefined();
    }
  });

  it('flags a line over the limit, after returning the lines before it', () => {
    const splitter = new LineSplitter(8);
    expect(splitter.push(Buffer.from('12345678\n123456789\nok\n'))).toEqual(['12345678']);
    expect(splitter.overflow).toBe(9);
    expect(splitter.push(Buffer.from('more\n'))).toEqual([]);
  });
});
