// connectIpc against a stand-in for Electron's ipcMain: Electron cannot run on every machine that
// runs the unit tests, and what matters here is our checks, not Electron's plumbing.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { HangarError } from '../../shared/errors';
import type { Dispatcher } from '../api/dispatch';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;
type Listener = (event: { returnValue?: unknown }) => void;
const handlers = new Map<string, Handler>();
const listeners = new Map<string, Listener>();

vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, h: Handler) => handlers.set(channel, h),
    removeHandler: (channel: string) => handlers.delete(channel),
    on: (channel: string, l: Listener) => listeners.set(channel, l),
    removeAllListeners: (channel: string) => listeners.delete(channel),
  },
}));

const { connectIpc } = await import('./ipc');

const ORIGIN = 'http://127.0.0.1:41234';
const BASE = '/s/AbCdEfGhIjKlMnOpQrStUvWxYz012345/';

function fakeWindow() {
  const sent: unknown[][] = [];
  const wc = { isDestroyed: () => false, send: (...a: unknown[]) => sent.push(a) };
  return { win: { webContents: wc } as never, wc, sent };
}

function fakeDispatcher() {
  let listener: ((event: string, data: unknown) => void) | null = null;
  const dispatcher: Dispatcher = {
    call: vi.fn(async (method: string) => {
      if (method === 'host.info') return { accel: 'tcg' };
      throw new HangarError('NOT_FOUND', 'No such VM.');
    }),
    subscribe: (l) => {
      listener = l;
      return () => (listener = null);
    },
    consoleSocket: () => null,
  };
  return {
    dispatcher,
    emit: (e: string, d: unknown) => listener?.(e, d),
    subscribed: () => listener !== null,
  };
}

const frame = (url: string, top = true) => ({ url, parent: top ? null : {} });

describe('connectIpc', () => {
  beforeEach(() => {
    handlers.clear();
    listeners.clear();
  });

  it('answers our top frame with results and errors as data', async () => {
    const { win, wc } = fakeWindow();
    const { dispatcher } = fakeDispatcher();
    connectIpc(win, dispatcher, ORIGIN, BASE);
    const call = handlers.get('hangar:call')!;
    const event = { sender: wc, senderFrame: frame(`${ORIGIN}/#/`) };
    await expect(call(event, 'host.info', {})).resolves.toEqual({ ok: true, result: { accel: 'tcg' } });
    await expect(call(event, 'vm.get', { vm: 'x' })).resolves.toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'No such VM.' },
    });
    await expect(call(event, 42, {})).resolves.toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('refuses other web contents, subframes, foreign origins and detached frames', async () => {
    const { win, wc } = fakeWindow();
    const { dispatcher } = fakeDispatcher();
    connectIpc(win, dispatcher, ORIGIN, BASE);
    const call = handlers.get('hangar:call')!;
    for (const event of [
      { sender: {}, senderFrame: frame(`${ORIGIN}/`) },
      { sender: wc, senderFrame: frame(`${ORIGIN}/`, false) },
      { sender: wc, senderFrame: frame('https://evil.example/') },
      { sender: wc, senderFrame: frame('file:///tmp/index.html') },
      { sender: wc, senderFrame: null },
    ])
      await expect(call(event, 'host.info', {})).rejects.toThrow(/Refused/);
    expect(dispatcher.call).not.toHaveBeenCalled();
  });

  it('tells our top frame the base path, and every other frame nothing', () => {
    const { win, wc } = fakeWindow();
    const { dispatcher } = fakeDispatcher();
    connectIpc(win, dispatcher, ORIGIN, BASE);
    const ask = (event: Record<string, unknown>) => {
      const e: { returnValue?: unknown } = { ...event };
      listeners.get('hangar:base-path')!(e);
      return e.returnValue;
    };
    expect(ask({ sender: wc, senderFrame: frame(`${ORIGIN}${BASE}#/`) })).toBe(BASE);
    for (const event of [
      { sender: {}, senderFrame: frame(`${ORIGIN}${BASE}`) },
      { sender: wc, senderFrame: frame(`${ORIGIN}${BASE}`, false) },
      { sender: wc, senderFrame: frame('https://evil.example/') },
      { sender: wc, senderFrame: null },
    ])
      // null, never undefined: a sendSync left without a value would hang the renderer.
      expect(ask(event)).toBeNull();
  });

  it('pushes engine events to this window until disconnected', () => {
    const { win, sent } = fakeWindow();
    const fake = fakeDispatcher();
    const disconnect = connectIpc(win, fake.dispatcher, ORIGIN, BASE);
    fake.emit('state', { id: 'a' });
    expect(sent).toEqual([['hangar:event', 'state', { id: 'a' }]]);
    disconnect();
    expect(fake.subscribed()).toBe(false);
    expect(handlers.has('hangar:call')).toBe(false);
    expect(listeners.has('hangar:base-path')).toBe(false);
  });
});
