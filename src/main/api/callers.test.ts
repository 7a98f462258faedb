// The dispatcher as each kind of caller meets it: the UI (renderer) names no host file itself and
// passes grants for files the user picked, the CLI (user) names paths. The engine functions behind
// the path-taking methods are stand-ins that record what they were given, so these tests see
// exactly which path would have reached the engine, without QEMU.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiParams, type ApiMethod } from '../../shared/api';
import type { PickPurpose } from '../../shared/requests';
import type { Engine } from '../engine/engine';
import { pathPolicy } from '../engine/policy/paths';

const seen = vi.hoisted(() => ({ calls: [] as { fn: string; args: unknown[] }[] }));
const record =
  (fn: string) =>
  async (...args: unknown[]) => {
    seen.calls.push({ fn, args });
    return { recorded: fn };
  };

vi.mock('../engine/vms/create', () => ({ createVm: (...a: unknown[]) => record('createVm')(...a) }));
vi.mock('../engine/vms/manage', async (original) => ({
  ...(await original<object>()),
  editVm: (...a: unknown[]) => record('editVm')(...a),
}));
vi.mock('../engine/live', async (original) => ({
  ...(await original<object>()),
  insertMedia: (...a: unknown[]) => record('insertMedia')(...a),
}));
vi.mock('../engine/vms/disks', async (original) => ({
  ...(await original<object>()),
  addDisk: (...a: unknown[]) => record('addDisk')(...a),
  diskInfo: (...a: unknown[]) => record('diskInfo')(...a),
}));
vi.mock('../engine/agent/vm-ops', async (original) => ({
  ...(await original<object>()),
  copyIn: (...a: unknown[]) => record('copyIn')(...a),
  copyOut: (...a: unknown[]) => record('copyOut')(...a),
}));
vi.mock('../engine/images/service', async (original) => ({
  ...(await original<object>()),
  addImage: (...a: unknown[]) => record('addImage')(...a),
  importOva: async (...a: unknown[]) => {
    await record('importOva')(...a);
    return { vm: {}, image: {}, ovf: { notHonoured: [] } };
  },
  identifyIso: (...a: unknown[]) => record('identifyIso')(...a),
  planOva: async (...a: unknown[]) => {
    await record('planOva')(...a);
    return { files: [] };
  },
}));
vi.mock('../engine/isos', () => ({
  findIsos: () => ({ recent: [files.iso], downloads: [files.iso2, files.insideHangar] }),
}));

const { createDispatcher } = await import('./dispatch');

const root = mkdtempSync(join(tmpdir(), 'hangar-callers-'));
const hangarHome = join(root, 'hangar');
const user = join(root, 'user');
mkdirSync(join(hangarHome, 'vms', 'abcdefabcdef'), { recursive: true });
mkdirSync(user);
const files = {
  iso: join(user, 'debian.iso'),
  iso2: join(user, 'alpine.iso'),
  disk: join(user, 'disk.img'),
  kernel: join(user, 'vmlinuz'),
  initrd: join(user, 'initrd.img'),
  file: join(user, 'notes.txt'),
  secret: join(user, 'id_ed25519'),
  overlay: join(user, 'overlay.qcow2'),
  base: join(user, 'base.img'),
  recordedKernel: join(user, 'vmlinuz-old'),
  insideHangar: join(hangarHome, 'vms', 'abcdefabcdef', 'disk0.qcow2'),
};
for (const f of Object.values(files)) writeFileSync(f, 'x');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const engine = {
  policy: pathPolicy([hangarHome]),
  env: { HOME: user },
  // qemu-img's view: overlay.qcow2 is built on base.img (raw), everything else is a raw image.
  img: {
    info: async (path: string) =>
      path === files.overlay
        ? {
            format: 'qcow2',
            'virtual-size': 1,
            'backing-filename': files.base,
            'full-backing-filename': files.base,
            'backing-filename-format': 'raw',
          }
        : { format: 'raw', 'virtual-size': 1 },
  },
  resolve: (vm: string) => ({ id: vm, directBoot: { kernel: files.recordedKernel, cmdline: '' } }),
  exclusive: (_id: string, _op: string, fn: () => unknown) => fn(),
  progress: () => undefined,
  endProgress: () => undefined,
  emit: () => undefined,
  onClose: () => undefined,
} as unknown as Engine;

/** Each host file a request can carry, and where the engine stand-in finds it. */
const PATH_FIELDS: {
  method: ApiMethod;
  field: string;
  purpose: PickPurpose;
  file: string;
  /** `kernel`: what goes beside an initrd (a grant from the renderer, a path from the user). */
  params: (path: string, kernel: string) => Record<string, unknown>;
  received: () => unknown;
}[] = [
  {
    method: 'vm.create',
    field: 'iso',
    purpose: 'iso',
    file: files.iso,
    params: (p) => ({ name: 'a', iso: p }),
    received: () => (seen.calls[0]!.args[0] as { iso: string }).iso,
  },
  {
    method: 'vm.create',
    field: 'disk.path',
    purpose: 'disk',
    file: files.disk,
    params: (p) => ({ name: 'a', disk: { kind: 'existing', path: p } }),
    received: () => (seen.calls[0]!.args[0] as { disk: { path: string } }).disk.path,
  },
  {
    method: 'vm.create',
    field: 'directBoot.kernel',
    purpose: 'kernel',
    file: files.kernel,
    params: (p) => ({ name: 'a', directBoot: { kernel: p } }),
    received: () => (seen.calls[0]!.args[0] as { directBoot: { kernel: string } }).directBoot.kernel,
  },
  {
    method: 'vm.create',
    field: 'directBoot.initrd',
    purpose: 'initrd',
    file: files.initrd,
    params: (p, kernel) => ({ name: 'a', directBoot: { kernel, initrd: p } }),
    received: () => (seen.calls[0]!.args[0] as { directBoot: { initrd: string } }).directBoot.initrd,
  },
  {
    method: 'vm.edit',
    field: 'patch.directBoot.kernel',
    purpose: 'kernel',
    file: files.kernel,
    params: (p) => ({ vm: 'v', patch: { directBoot: { kernel: p } } }),
    received: () => (seen.calls[0]!.args[2] as { directBoot: { kernel: string } }).directBoot.kernel,
  },
  {
    method: 'vm.edit',
    field: 'patch.directBoot.initrd',
    purpose: 'initrd',
    file: files.initrd,
    params: (p, kernel) => ({ vm: 'v', patch: { directBoot: { kernel, initrd: p } } }),
    received: () => (seen.calls[0]!.args[2] as { directBoot: { initrd: string } }).directBoot.initrd,
  },
  {
    method: 'vm.edit',
    field: 'patch.sharedFolder',
    purpose: 'folder',
    file: user,
    params: (p) => ({ vm: 'v', patch: { sharedFolder: p } }),
    received: () => (seen.calls[0]!.args[2] as { sharedFolder: string }).sharedFolder,
  },
  {
    method: 'disk.add',
    field: 'disk.path',
    purpose: 'disk',
    file: files.disk,
    params: (p) => ({ vm: 'v', disk: { kind: 'existing', path: p } }),
    received: () => (seen.calls[0]!.args[2] as { path: string }).path,
  },
  {
    method: 'media.insert',
    field: 'path',
    purpose: 'iso',
    file: files.iso,
    params: (p) => ({ vm: 'v', path: p }),
    received: () => seen.calls[0]!.args[2],
  },
  {
    method: 'disk.info',
    field: 'path',
    purpose: 'disk',
    file: files.disk,
    params: (p) => ({ path: p }),
    received: () => seen.calls[0]!.args[1],
  },
  {
    method: 'vm.copyIn',
    field: 'hostPath',
    purpose: 'file',
    file: files.file,
    params: (p) => ({ vm: 'v', hostPath: p, guestPath: '/tmp/x' }),
    received: () => seen.calls[0]!.args[2],
  },
  {
    method: 'image.add',
    field: 'path',
    purpose: 'file',
    file: files.disk,
    params: (p) => ({ path: p }),
    received: () => seen.calls[0]!.args[1],
  },
  {
    method: 'image.importOva',
    field: 'path',
    purpose: 'file',
    file: files.file,
    params: (p) => ({ path: p }),
    received: () => seen.calls[0]!.args[1],
  },
  {
    method: 'image.planOva',
    field: 'path',
    purpose: 'file',
    file: files.file,
    params: (p) => ({ path: p }),
    received: () => seen.calls[0]!.args[1],
  },
  {
    method: 'iso.identify',
    field: 'path',
    purpose: 'iso',
    file: files.iso,
    params: (p) => ({ path: p }),
    received: () => seen.calls[0]!.args[1],
  },
];

beforeEach(() => {
  seen.calls = [];
});

/** A dispatcher, and a grant for a kernel to go with an initrd. */
async function rendererApi() {
  const api = createDispatcher(engine);
  const k = await api.files.grant(files.kernel, 'kernel');
  if (!k.ok) throw new Error('no grant');
  return { api, kernel: k.file.grant };
}

describe('what each caller may name', () => {
  it.each(PATH_FIELDS.map((f) => [`${f.method} ${f.field}`, f] as const))(
    'renderer: %s refuses a typed path, even one the policy allows, and reaches nothing',
    async (_name, f) => {
      const { api, kernel } = await rendererApi();
      for (const path of [f.file, files.secret])
        await expect(api.call(f.method, f.params(path, kernel), 'renderer')).rejects.toMatchObject({
          code: 'INVALID_INPUT',
          message: expect.stringMatching(/choose the file with the picker/),
        });
      expect(seen.calls).toEqual([]);
    },
  );

  it.each(PATH_FIELDS.map((f) => [`${f.method} ${f.field}`, f] as const))(
    'renderer: %s takes a grant for the file the user picked, and the engine gets its path',
    async (_name, f) => {
      const { api, kernel } = await rendererApi();
      const picked = await api.files.grant(f.file, f.purpose);
      if (!picked.ok) throw new Error('no grant');
      await api.call(f.method, f.params(picked.file.grant, kernel), 'renderer');
      expect(f.received()).toBe(f.file);
    },
  );

  it.each(PATH_FIELDS.map((f) => [`${f.method} ${f.field}`, f] as const))(
    'renderer: %s refuses a grant made for another purpose or by another engine',
    async (_name, f) => {
      const { api, kernel } = await rendererApi();
      const other: PickPurpose = f.purpose === 'iso' ? 'disk' : 'iso';
      // A folder cannot be granted as an ISO at all: a file granted so stands in for it.
      const wrong = await api.files.grant(f.purpose === 'folder' ? files.iso : f.file, other);
      const foreign = await createDispatcher(engine).files.grant(f.file, f.purpose);
      if (!wrong.ok || !foreign.ok) throw new Error('no grant');
      await expect(api.call(f.method, f.params(wrong.file.grant, kernel), 'renderer')).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
      await expect(
        api.call(f.method, f.params(foreign.file.grant, kernel), 'renderer'),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      expect(seen.calls).toEqual([]);
    },
  );

  it.each(PATH_FIELDS.map((f) => [`${f.method} ${f.field}`, f] as const))(
    'user: %s takes a typed path as it is (the policy still applies in the engine)',
    async (_name, f) => {
      const api = createDispatcher(engine);
      await api.call(f.method, f.params(f.file, files.kernel));
      expect(f.received()).toBe(f.file);
      seen.calls = [];
      await api.call(f.method, f.params(f.file, files.kernel), 'user');
      expect(f.received()).toBe(f.file);
    },
  );

  it('covers every method whose params can carry a host path', () => {
    // A path-shaped string (AbsolutePath or HostFile: 2 to 4000 characters) anywhere in a method's
    // params makes it path-taking; each must be decided for the renderer here, or refused.
    const pathTaking = (Object.keys(ApiParams) as ApiMethod[]).filter((m) =>
      /"minLength":2,"maxLength":4000/.test(
        JSON.stringify(z.toJSONSchema(ApiParams[m] as z.ZodType, { unrepresentable: 'any', io: 'input' })),
      ),
    );
    const tested = new Set<string>([
      ...PATH_FIELDS.map((f) => f.method),
      'vm.copyOut',
      'lab.plan',
      'lab.up',
      'lab.capture',
      'vm.exportLibvirt',
      'vm.importLibvirt',
      'backup.create',
      'backup.list',
      'backup.verify',
      'backup.restore',
      'backup.restoreInPlace',
      'backup.export',
      'backup.import',
      'backup.prune',
      'backup.drill',
    ]);
    expect(pathTaking.filter((m) => !tested.has(m))).toEqual([]);
    expect(pathTaking.length).toBeGreaterThanOrEqual(tested.size);
  });

  it('renderer: a lab file may not name host files, nor a capture file; the user may', async () => {
    const api = createDispatcher(engine);
    const lab = (source: string) => `version: 1\nname: l\nvms:\n  a: { ${source} }\n`;
    const refused = { code: 'INVALID_INPUT', message: expect.stringMatching(/host paths|cannot write/) };
    for (const method of ['lab.plan', 'lab.up'] as const) {
      await expect(
        api.call(method, { text: lab(`image: ${files.kernel}`) }, 'renderer'),
      ).rejects.toMatchObject(refused);
      await expect(api.call(method, { text: lab('iso: /x.iso') }, 'renderer')).rejects.toMatchObject(refused);
      await expect(
        api.call(method, { text: lab('template: t'), sourceFile: join(user, 'hangar.lab.yaml') }, 'renderer'),
      ).rejects.toMatchObject(refused);
    }
    const capture = { lab: 'l', segment: 'lan', file: join(user, 'x.pcap') };
    await expect(api.call('lab.capture', capture, 'renderer')).rejects.toMatchObject(refused);
    // The user may name them, and a lab of templates is fine from the UI: these calls get past
    // the caller check to the engine (a stand-in here, which fails for its own reasons).
    await expect(api.call('lab.capture', capture)).rejects.not.toMatchObject(refused);
    await expect(api.call('lab.plan', { text: lab('template: t') }, 'renderer')).rejects.not.toMatchObject(
      refused,
    );
    await expect(api.call('lab.up', { text: lab(`image: ${files.kernel}`) })).rejects.not.toMatchObject(
      refused,
    );
  });

  it('renderer: no libvirt import (the XML names host files) and no NVRAM file written; the user may', async () => {
    const api = createDispatcher(engine);
    const refused = { code: 'INVALID_INPUT', message: expect.stringMatching(/hangar (import|export)/) };
    const calls = [
      ['vm.importLibvirt', { source: { file: files.kernel } }],
      ['vm.importLibvirt', { source: { xml: '<domain/>' } }],
      ['vm.importLibvirt', { source: { uri: 'qemu:///system', domain: 'd' } }],
      ['vm.exportLibvirt', { vm: 'v', nvramFile: join(user, 'vars.fd') }],
    ] as const;
    for (const [method, params] of calls) {
      await expect(api.call(method, params, 'renderer')).rejects.toMatchObject(refused);
      await api.call(method, params, 'user').then(
        () => undefined,
        (err: unknown) => expect(err).not.toMatchObject(refused),
      );
    }
    await api.call('vm.exportLibvirt', { vm: 'v' }, 'renderer').then(
      () => undefined,
      (err: unknown) => expect(err).not.toMatchObject(refused),
    );
  });

  it("renderer: adds only this computer's libvirt (a remote host would receive published disks); the user may", async () => {
    const api = createDispatcher({ ...engine, home: hangarHome } as unknown as Engine);
    const refused = { code: 'INVALID_INPUT', message: expect.stringMatching(/hangar host add/) };
    // A port that nobody listens on: the connection is tried, and fails, after the caller check.
    const params = { name: 'lab', uri: 'qemu+tcp://127.0.0.1:1/system?keyfile=/home/me/.ssh/id_rsa' };
    await expect(api.call('remote.addHost', params, 'renderer')).rejects.toMatchObject(refused);
    const byUser = await api.call('remote.addHost', params, 'user').then(
      () => null,
      (err: unknown) => err,
    );
    expect(byUser).not.toMatchObject(refused);
    await expect(
      api.call('remote.addHost', { ...params, uri: 'qemu+ssh://me@elsewhere/system' }, 'renderer'),
    ).rejects.toMatchObject(refused);
    const plain = await api
      .call('remote.addHost', { ...params, uri: 'qemu+unix:///system' }, 'renderer')
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(plain).not.toMatchObject(refused);
    expect(await api.call('remote.hosts', {}, 'renderer')).toEqual([]);
  });

  it('renderer: only the default backup repository; the user may name any folder', async () => {
    const api = createDispatcher(engine);
    const repository = join(user, 'backups');
    const id = '20261128T134512345Z-a1b2c3';
    const calls = [
      ['backup.create', { vm: 'v', repository }],
      ['backup.list', { repository }],
      ['backup.verify', { backup: id, repository }],
      ['backup.restore', { backup: id, name: 'r', repository }],
      ['backup.restoreInPlace', { backup: id, repository }],
      ['backup.prune', { vm: 'v', keepLast: 1, repository }],
      ['backup.drill', { backup: id, repository }],
    ] as const;
    const refused = { code: 'INVALID_INPUT', message: expect.stringMatching(/default backup repository/) };
    for (const [method, params] of calls) {
      await expect(api.call(method, params, 'renderer')).rejects.toMatchObject(refused);
      // Past the caller check: the engine (a stand-in here) answers or fails for its own reasons.
      await api.call(method, params, 'user').then(
        () => undefined,
        (err: unknown) => expect(err).not.toMatchObject(refused),
      );
      await api.call(method, { ...params, repository: null }, 'renderer').then(
        () => undefined,
        (err: unknown) => expect(err).not.toMatchObject(refused),
      );
    }
  });

  it('renderer: a backup key is a passphrase, never a key file (a host file the engine reads)', async () => {
    const api = createDispatcher(engine);
    const id = '20261128T134512345Z-a1b2c3';
    const keyFile = { keyFile: join(user, 'backup.key') };
    const calls = [
      ['backup.create', { vm: 'v' }],
      ['backup.verify', { backup: id, mode: 'full' }],
      ['backup.restore', { backup: id, name: 'r' }],
      ['backup.restoreInPlace', { backup: id }],
      ['backup.prune', { vm: 'v', keepLast: 1 }],
      ['backup.drill', { backup: id }],
    ] as const;
    const refused = { code: 'INVALID_INPUT', message: expect.stringMatching(/takes a passphrase/) };
    for (const [method, params] of calls) {
      await expect(api.call(method, { ...params, key: keyFile }, 'renderer')).rejects.toMatchObject(refused);
      for (const [key, caller] of [
        [keyFile, 'user'],
        [{ passphrase: 'secret words' }, 'renderer'],
      ] as const)
        await api.call(method, { ...params, key }, caller).then(
          () => undefined,
          (err: unknown) => expect(err).not.toMatchObject(refused),
        );
    }
  });

  it('renderer: VM archives are refused (they name host files); the user may export and import', async () => {
    const api = createDispatcher(engine);
    const calls = [
      ['backup.export', { backup: 'v', file: join(user, 'v.tar'), repository: null }],
      ['backup.import', { file: join(user, 'v.tar'), name: 'v2' }],
    ] as const;
    const refused = { code: 'INVALID_INPUT', message: expect.stringMatching(/hangar backup export/) };
    for (const [method, params] of calls) {
      await expect(api.call(method, params, 'renderer')).rejects.toMatchObject(refused);
      await api.call(method, params, 'user').then(
        () => undefined,
        (err: unknown) => expect(err).not.toMatchObject(refused),
      );
    }
  });

  it('renderer: vm.copyOut is refused (the UI has no save dialog); the user may name the target', async () => {
    const api = createDispatcher(engine);
    const params = { vm: 'v', guestPath: '/etc/hostname', hostPath: join(user, 'out.txt') };
    await expect(api.call('vm.copyOut', params, 'renderer')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(seen.calls).toEqual([]);
    await api.call('vm.copyOut', params);
    expect(seen.calls[0]!.args[3]).toBe(join(user, 'out.txt'));
  });

  it('renderer: may stop sharing (null names nothing); a folder only through a grant made for sharing', async () => {
    const api = createDispatcher(engine);
    await api.call('vm.edit', { vm: 'v', patch: { sharedFolder: null } }, 'renderer');
    expect(seen.calls[0]!.args[2]).toEqual({ sharedFolder: null });
    // A file granted to copy into a guest is no folder to share, and the folder holding Hangar's
    // data is never granted at all.
    const notes = await api.files.grant(files.file, 'file');
    if (!notes.ok) throw new Error('no grant');
    await expect(
      api.call('vm.edit', { vm: 'v', patch: { sharedFolder: notes.file.grant } }, 'renderer'),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(api.files.grant(root, 'folder')).rejects.toThrow(/contains Hangar's own data/);
  });

  it('renderer: a VM’s own recorded kernel may be sent back unchanged, no other path', async () => {
    const api = createDispatcher(engine);
    await api.call(
      'vm.edit',
      { vm: 'v', patch: { directBoot: { kernel: files.recordedKernel, cmdline: 'quiet' } } },
      'renderer',
    );
    expect(seen.calls[0]!.args[2]).toMatchObject({
      directBoot: { kernel: files.recordedKernel, cmdline: 'quiet' },
    });
    await expect(
      api.call('vm.create', { name: 'a', directBoot: { kernel: files.recordedKernel } }, 'renderer'),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('renderer: a disk’s backing chain is the one the user confirmed where the grant was made, never the page’s', async () => {
    const api = createDispatcher(engine);
    // The picker asks first: the answer is the chain to show, and no grant.
    await expect(api.files.grant(files.overlay, 'disk')).resolves.toEqual({
      ok: false,
      chain: [{ path: files.base, format: 'raw' }],
    });
    await expect(api.files.grant(files.overlay, 'disk', [files.secret])).resolves.toMatchObject({
      ok: false,
    });
    const confirmed = await api.files.grant(files.overlay, 'disk', [files.base]);
    if (!confirmed.ok) throw new Error('no grant');
    const disk = { kind: 'existing', path: confirmed.file.grant };
    await api.call('disk.add', { vm: 'v', disk }, 'renderer');
    expect(seen.calls[0]!.args[2]).toMatchObject({ path: files.overlay, confirmChain: [files.base] });
    // The page may repeat that chain, but not name another one, nor confirm one for a plain grant.
    await api.call('vm.create', { name: 'a', disk: { ...disk, confirmChain: [files.base] } }, 'renderer');
    await expect(
      api.call('disk.add', { vm: 'v', disk: { ...disk, confirmChain: [files.secret] } }, 'renderer'),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/choose the image again/),
    });
    const plain = await api.files.grant(files.disk, 'disk');
    if (!plain.ok) throw new Error('no grant');
    await expect(
      api.call(
        'vm.create',
        { name: 'a', disk: { kind: 'existing', path: plain.file.grant, confirmChain: [files.base] } },
        'renderer',
      ),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    // The user (the CLI's --backing-chain) confirms a chain itself, as before.
    seen.calls = [];
    await api.call('disk.add', {
      vm: 'v',
      disk: { kind: 'existing', path: files.overlay, confirmChain: [files.secret] },
    });
    expect(seen.calls[0]!.args[2]).toMatchObject({ confirmChain: [files.secret] });
  });

  it('renderer: host.isos comes with a grant for each ISO the engine found, and leaves out what the policy refuses', async () => {
    const api = createDispatcher(engine);
    const found = (await api.call('host.isos', {}, 'renderer')) as {
      recent: string[];
      downloads: string[];
      grants: Record<string, string>;
    };
    expect(found.recent).toEqual([files.iso]);
    expect(found.downloads).toEqual([files.iso2]);
    await api.call('media.insert', { vm: 'v', path: found.grants[files.iso2] }, 'renderer');
    expect(seen.calls[0]!.args[2]).toBe(files.iso2);
    // The user gets the plain lists, as before.
    expect(await api.call('host.isos', {})).toEqual({
      recent: [files.iso],
      downloads: [files.iso2, files.insideHangar],
    });
  });

  it('grants a file the policy refuses to nobody', async () => {
    const api = createDispatcher(engine);
    await expect(api.files.grant(files.insideHangar, 'disk')).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(api.files.grant(user, 'iso')).rejects.toThrow(/a directory/);
    expect(api.files.isProtected(files.insideHangar)).toBe(true);
    expect(api.files.isProtected(files.iso)).toBe(false);
    expect(api.files.home()).toBe(user);
  });
});
