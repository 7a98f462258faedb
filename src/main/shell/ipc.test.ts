// connectIpc against a stand-in for Electron's ipcMain: Electron cannot run on every machine that
// runs the unit tests, and what matters here is our checks, not Electron's plumbing.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { HangarError } from '../../shared/errors';
import type { GrantOutcome } from '../api/callers';
import type { Dispatcher } from '../api/dispatch';

type Handler = (event: unknown, ...args: unknown[]) => Promise<unknown>;
type Listener = (event: { returnValue?: unknown }) => void;
const handlers = new Map<string, Handler>();
const listeners = new Map<string, Listener>();
// The native dialogs as the user answers them in a test: the file chosen (null: cancel) and the
// button pressed in the backing-chain question (1: "I trust these files").
const dialogs = vi.hoisted(() => ({
  file: null as string | null,
  button: 0,
  opened: [] as { kind: string; options: Record<string, unknown> }[],
  release: null as null | Promise<void>,
}));

vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, h: Handler) => handlers.set(channel, h),
    removeHandler: (channel: string) => handlers.delete(channel),
    on: (channel: string, l: Listener) => listeners.set(channel, l),
    removeAllListeners: (channel: string) => listeners.delete(channel),
  },
  dialog: {
    showOpenDialog: async (_win: unknown, options: Record<string, unknown>) => {
      dialogs.opened.push({ kind: 'open', options });
      await dialogs.release;
      return { canceled: dialogs.file === null, filePaths: dialogs.file ? [dialogs.file] : [] };
    },
    showMessageBox: async (_win: unknown, options: Record<string, unknown>) => {
      dialogs.opened.push({ kind: 'message', options });
      return { response: dialogs.button };
    },
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

const CHAIN = [{ path: '/srv/base.qcow2', format: 'qcow2' as const }];

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
    remoteConsole: () => null,
    files: {
      home: () => '/home/u',
      isProtected: () => false,
      // A stand-in for the engine's grants: /srv/overlay.qcow2 is built on CHAIN, /etc/nope is refused.
      grant: vi.fn(async (path: string, purpose: string, confirm?: string[]): Promise<GrantOutcome> => {
        if (path === '/etc/nope') throw new HangarError('INVALID_INPUT', 'Refused by the policy.');
        if (path === '/srv/overlay.qcow2' && confirm?.join() !== CHAIN[0]!.path)
          return { ok: false, chain: CHAIN };
        return {
          ok: true,
          file: { grant: `grant:${purpose}`, name: path.slice(path.lastIndexOf('/') + 1), path },
        };
      }),
    },
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
    dialogs.file = null;
    dialogs.button = 0;
    dialogs.opened = [];
    dialogs.release = null;
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

  it('runs every call from the window as the renderer, which names no host file itself', async () => {
    const { win, wc } = fakeWindow();
    const { dispatcher } = fakeDispatcher();
    connectIpc(win, dispatcher, ORIGIN, BASE);
    await handlers.get('hangar:call')!({ sender: wc, senderFrame: frame(`${ORIGIN}/`) }, 'disk.info', {
      path: '/home/u/.ssh/id_ed25519',
    });
    expect(dispatcher.call).toHaveBeenCalledWith(
      'disk.info',
      { path: '/home/u/.ssh/id_ed25519' },
      'renderer',
    );
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

  it('picks a file with the native dialog and answers its grant, or null when cancelled', async () => {
    const { win, wc } = fakeWindow();
    const { dispatcher } = fakeDispatcher();
    connectIpc(win, dispatcher, ORIGIN, BASE);
    const pick = handlers.get('hangar:pick-file')!;
    const event = { sender: wc, senderFrame: frame(`${ORIGIN}${BASE}`) };
    await expect(pick(event, 'iso')).resolves.toEqual({ ok: true, result: null });
    expect(dialogs.opened[0]!.options).toMatchObject({
      properties: ['openFile', 'dontAddToRecent'],
      filters: [
        { name: 'ISO images', extensions: ['iso'] },
        { name: 'All files', extensions: ['*'] },
      ],
    });
    dialogs.file = '/home/u/Downloads/debian.iso';
    await expect(pick(event, 'iso')).resolves.toEqual({
      ok: true,
      result: { grant: 'grant:iso', name: 'debian.iso', path: '/home/u/Downloads/debian.iso' },
    });
    expect(dispatcher.files.grant).toHaveBeenLastCalledWith('/home/u/Downloads/debian.iso', 'iso');
    // The policy's refusal reaches the page as error data.
    dialogs.file = '/etc/nope';
    await expect(pick(event, 'kernel')).resolves.toEqual({
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'Refused by the policy.' },
    });
    await expect(pick(event, 'script')).resolves.toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
  });

  it('grants a disk built on other files only once the user trusts that chain in a native box', async () => {
    const { win, wc } = fakeWindow();
    const { dispatcher } = fakeDispatcher();
    connectIpc(win, dispatcher, ORIGIN, BASE);
    const pick = handlers.get('hangar:pick-file')!;
    const event = { sender: wc, senderFrame: frame(`${ORIGIN}${BASE}`) };
    dialogs.file = '/srv/overlay.qcow2';
    await expect(pick(event, 'disk')).resolves.toEqual({ ok: true, result: null });
    const box = dialogs.opened.find((d) => d.kind === 'message')!.options;
    expect(box.detail).toContain('/srv/base.qcow2 (qcow2)');
    expect(box).toMatchObject({ buttons: ['Cancel', 'I trust these files'], cancelId: 0, defaultId: 0 });
    dialogs.button = 1;
    await expect(pick(event, 'disk')).resolves.toMatchObject({ ok: true, result: { grant: 'grant:disk' } });
    expect(dispatcher.files.grant).toHaveBeenLastCalledWith('/srv/overlay.qcow2', 'disk', [
      '/srv/base.qcow2',
    ]);
  });

  it('opens the dialog for our top frame only, and one at a time', async () => {
    const { win, wc } = fakeWindow();
    const { dispatcher } = fakeDispatcher();
    connectIpc(win, dispatcher, ORIGIN, BASE);
    const pick = handlers.get('hangar:pick-file')!;
    for (const event of [
      { sender: {}, senderFrame: frame(`${ORIGIN}/`) },
      { sender: wc, senderFrame: frame(`${ORIGIN}/`, false) },
      { sender: wc, senderFrame: frame('https://evil.example/') },
      { sender: wc, senderFrame: null },
    ])
      await expect(pick(event, 'iso')).rejects.toThrow(/Refused/);
    expect(dialogs.opened).toEqual([]);
    let release!: () => void;
    dialogs.release = new Promise((r) => (release = r));
    const event = { sender: wc, senderFrame: frame(`${ORIGIN}/`) };
    const first = pick(event, 'iso');
    await expect(pick(event, 'iso')).resolves.toMatchObject({ ok: false, error: { code: 'BUSY' } });
    release();
    await expect(first).resolves.toEqual({ ok: true, result: null });
    expect(dialogs.opened).toHaveLength(1);
  });

  it('grants a dropped file only after the user says so in a native box, and refuses other kinds', async () => {
    const { win, wc } = fakeWindow();
    const { dispatcher } = fakeDispatcher();
    connectIpc(win, dispatcher, ORIGIN, BASE);
    const drop = handlers.get('hangar:drop-file')!;
    const event = { sender: wc, senderFrame: frame(`${ORIGIN}${BASE}`) };
    // The page may send any path down this channel: the user's answer in main decides.
    dialogs.button = 0;
    await expect(drop(event, '/home/u/Downloads/debian.iso')).resolves.toEqual({ ok: true, result: null });
    expect(dialogs.opened.at(-1)!.options).toMatchObject({ detail: '/home/u/Downloads/debian.iso' });
    expect(dispatcher.files.grant).not.toHaveBeenCalled();
    dialogs.button = 1;
    await expect(drop(event, '/home/u/Downloads/debian.iso')).resolves.toMatchObject({
      ok: true,
      result: { grant: 'grant:iso' },
    });
    expect(dispatcher.files.grant).toHaveBeenLastCalledWith('/home/u/Downloads/debian.iso', 'iso');
    for (const bad of ['/etc/passwd', 'relative.iso', 42])
      await expect(drop(event, bad)).resolves.toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    // Guessing a dropped file by name, size and time is the browser's way only.
    await expect(
      handlers.get('hangar:call')!(event, 'host.findDropped', { name: 'x.iso', size: 1, modifiedMs: 0 }),
    ).resolves.toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
    await expect(drop({ sender: wc, senderFrame: frame('https://evil.example/') }, '/x.iso')).rejects.toThrow(
      /Refused/,
    );
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
    expect(handlers.has('hangar:pick-file')).toBe(false);
    expect(listeners.has('hangar:base-path')).toBe(false);
  });
});
