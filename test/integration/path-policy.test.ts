// Host files reach a VM only through the path policy, and an external qcow2 brings only the
// backing files the user confirmed: checked against real qemu-img headers and a real QEMU.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import { createDispatcher, type Dispatcher } from '../../src/main/api/dispatch';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm } from '../support/vms';

const t = tempHome();
let engine: Engine;
let api: Dispatcher;
const secret = join(t.files, 'id_ed25519');

beforeAll(async () => {
  engine = await openEngine(t);
  api = createDispatcher(engine);
  writeFileSync(secret, 'PRIVATE KEY MATERIAL\n'.repeat(1000));
});
afterAll(() => closeEngine(engine, t));

function qemuImg(...args: string[]): void {
  execFileSync('qemu-img', args, { stdio: 'ignore' });
}

/** A downloaded-looking image whose header names `backing` as its backing file. */
function imageOn(name: string, backing: string, format: 'raw' | 'qcow2' | null): string {
  const path = join(t.files, name);
  qemuImg('create', '-q', '-f', 'qcow2', path, '16M');
  qemuImg('rebase', '-u', '-F', format ?? 'raw', '-b', backing, path);
  if (!format) dropBackingFormat(path);
  return path;
}

/**
 * Older tools wrote backing files without their format, and qemu-img no longer does: the
 * header extension that names it (magic 0xe2792aca) is renamed to one QEMU ignores.
 */
function dropBackingFormat(path: string): void {
  const bytes = readFileSync(path);
  const at = bytes.subarray(0, 65536).indexOf(Buffer.from([0xe2, 0x79, 0x2a, 0xca]));
  expect(at).toBeGreaterThan(0);
  Buffer.from([0x68, 0x61, 0x6e, 0x67]).copy(bytes, at);
  writeFileSync(path, bytes);
}

interface BlockNode {
  'node-name': string;
  file: string;
}

async function filesOpenedBy(id: string): Promise<string[]> {
  const nodes = await engine.qmp(id).execute<BlockNode[]>('query-named-block-nodes', { flat: true });
  return nodes.map((n) => n.file);
}

describe('external images and their backing chains', () => {
  it('refuses an image built on another file, naming the chain, until that chain is confirmed', async () => {
    const vm = await makeGuestVm(engine, 'chain');
    const evil = imageOn('evil.qcow2', secret, 'raw');
    const attempt = api.call('disk.add', { vm: vm.id, disk: { kind: 'existing', path: evil } });
    await expect(attempt).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`${secret} (raw)`),
      details: { chain: [{ path: secret, format: 'raw' }] },
    });
    expect(engine.store.load(vm.id).disks).toHaveLength(1);
    // A different chain than the one confirmed is refused too.
    await expect(
      api.call('disk.add', {
        vm: vm.id,
        disk: { kind: 'existing', path: evil, confirmChain: [join(t.files, 'other')] },
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    const saved = (await api.call('disk.add', {
      vm: vm.id,
      disk: { kind: 'existing', path: evil, confirmChain: [secret] },
    })) as { disks: unknown[] };
    expect(saved.disks[1]).toMatchObject({
      owned: false,
      path: evil,
      format: 'qcow2',
      backingChain: [{ path: secret, format: 'raw' }],
    });
  });

  it('refuses a link that does not name its backing file’s format, and one into Hangar’s data', async () => {
    const vm = await makeGuestVm(engine, 'chain-bad');
    const noFormat = imageOn('noformat.qcow2', secret, null);
    await expect(
      api.call('disk.add', { vm: vm.id, disk: { kind: 'existing', path: noFormat, confirmChain: [secret] } }),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/does not say/) });
    const theirs = join(engine.paths(vm.id).vmDir, 'disk0.qcow2');
    const intoHangar = imageOn('into-hangar.qcow2', theirs, 'qcow2');
    await expect(
      api.call('disk.add', {
        vm: vm.id,
        disk: { kind: 'existing', path: intoHangar, confirmChain: [theirs] },
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/Hangar's own data/) });
  });

  it('pins the chain: a header rewritten after the image was attached adds no file to QEMU', async () => {
    const vm = await makeGuestVm(engine, 'pinned');
    const plain = join(t.files, 'plain.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', plain, '16M');
    await api.call('disk.add', { vm: vm.id, disk: { kind: 'existing', path: plain } });
    // Rewritten behind Hangar's back (by a tool, or a guest that could reach the header).
    qemuImg('rebase', '-u', '-F', 'raw', '-b', secret, plain);
    await engine.start(vm.id, { paused: true });
    const opened = await filesOpenedBy(vm.id);
    expect(opened).toContain(plain);
    expect(opened).not.toContain(secret);
    await engine.stop(vm.id, { force: true });
  });

  it('opens a confirmed chain exactly, and nothing else', async () => {
    const vm = await makeGuestVm(engine, 'confirmed');
    const base = join(t.files, 'base.qcow2');
    qemuImg('create', '-q', '-f', 'qcow2', base, '16M');
    const top = imageOn('top.qcow2', base, 'qcow2');
    await api.call('disk.add', { vm: vm.id, disk: { kind: 'existing', path: top, confirmChain: [base] } });
    // The base's header now points further, at the secret: not confirmed, so not opened.
    qemuImg('rebase', '-u', '-F', 'raw', '-b', secret, base);
    await engine.start(vm.id, { paused: true });
    const opened = await filesOpenedBy(vm.id);
    expect(opened).toEqual(expect.arrayContaining([top, base]));
    expect(opened).not.toContain(secret);
    await engine.stop(vm.id, { force: true });
  });
});

describe('paths from outside the engine', () => {
  it('refuses Hangar’s own files for every path-taking method', async () => {
    const vm = await makeGuestVm(engine, 'victim');
    const theirs = join(engine.paths(vm.id).vmDir, 'disk0.qcow2');
    const own = /Hangar's own data/;
    await expect(api.call('disk.info', { path: theirs })).rejects.toThrow(own);
    await expect(
      api.call('vm.create', { name: 'thief', disk: { kind: 'existing', path: theirs } }),
    ).rejects.toThrow(own);
    await expect(api.call('vm.create', { name: 'thief', iso: theirs })).rejects.toThrow(own);
    await expect(
      api.call('vm.create', { name: 'thief', directBoot: { kernel: engine.paths(vm.id).configFile } }),
    ).rejects.toThrow(own);
    await expect(api.call('media.insert', { vm: vm.id, path: theirs })).rejects.toThrow(own);
    await expect(
      api.call('vm.edit', { vm: vm.id, patch: { directBoot: { kernel: theirs } } }),
    ).rejects.toThrow(own);
    expect(engine.list().map((v) => v.name)).not.toContain('thief');
  });
});
