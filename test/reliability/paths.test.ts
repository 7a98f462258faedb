// Path fuzzing against the host-path policy. Every method that takes a host path is called with
// hostile paths (symlinks into Hangar's data, `..` and `//` spellings, FIFOs, devices, sockets,
// directories, other VMs' files, images whose backing chain points outside or into Hangar's data,
// chains without formats, loops) dressed up at random. None may be accepted; a positive control
// (a plain file of the user's) must be. The figures go into the README's reliability table.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HangarError } from '../../src/shared/errors';
import type { VmConfig } from '../../src/shared/vm';
import { Engine } from '../../src/main/engine/engine';
import { createDispatcher, type Dispatcher } from '../../src/main/api/dispatch';
import { runtimeRoot } from '../../src/main/engine/config/paths';
import { closeEngine, tempHome } from '../support/env';
import { makeIso } from '../support/iso';

const RUNS = Number(process.env.HANGAR_FUZZ_PATH_RUNS ?? 400);
const SEED = Number(process.env.HANGAR_FUZZ_SEED ?? Date.now() % 2 ** 31);

const t = tempHome('hangar-paths-');
let engine: Engine;
let api: Dispatcher;
let victim: VmConfig;
let target: VmConfig;
const U = t.files;
const hostile: Record<string, string> = {};

function qemuImg(...args: string[]): void {
  execFileSync('qemu-img', args, { stdio: 'ignore' });
}

/** A qcow2 of the user's whose header names `backing`; `format: null` leaves the format out. */
function chained(name: string, backing: string, format: string | null): string {
  const p = join(U, name);
  qemuImg('create', '-q', '-f', 'qcow2', p, '8M');
  qemuImg('rebase', '-u', '-F', format ?? 'raw', '-b', backing, p);
  if (format === null) {
    const bytes = readFileSync(p);
    const at = bytes.subarray(0, 65536).indexOf(Buffer.from([0xe2, 0x79, 0x2a, 0xca]));
    Buffer.from('hang').copy(bytes, at);
    writeFileSync(p, bytes);
  }
  return p;
}

beforeAll(async () => {
  engine = await Engine.open({ env: t.env, home: t.home });
  api = createDispatcher(engine);
  const base = { cpus: 1, memoryMiB: 64, firmware: 'uefi', network: null };
  victim = (await api.call('vm.create', {
    name: 'victim',
    ...base,
    disk: { kind: 'new', size: '8M' },
  })) as VmConfig;
  makeIso(join(U, 'plain.iso'));
  // With a CD-ROM drive, so media.insert gets as far as the path.
  target = (await api.call('vm.create', {
    name: 'target',
    ...base,
    disk: { kind: 'none' },
    iso: join(U, 'plain.iso'),
  })) as VmConfig;
  await api.call('disk.add', { vm: target.id, disk: { kind: 'new', size: '1M', format: 'qcow2' } });
  const vp = engine.paths(victim.id);
  const disk = join(vp.vmDir, 'disk0.qcow2');
  writeFileSync(join(U, 'secret'), 'SECRET');
  execFileSync('mkfifo', [join(U, 'fifo')]);
  mkdirSync(join(U, 'dir'));
  symlinkSync(disk, join(U, 'link-to-disk'));
  symlinkSync(t.home, join(U, 'link-to-home'));
  symlinkSync(join(U, 'fifo'), join(U, 'link-to-fifo'));
  symlinkSync('/dev/zero', join(U, 'link-to-zero'));
  symlinkSync(join(U, 'loop2'), join(U, 'loop1'));
  symlinkSync(join(U, 'loop1'), join(U, 'loop2'));
  // Start the target so that its QMP socket exists to be pointed at.
  await engine.start(target.id, { paused: true });
  Object.assign(hostile, {
    'another VM’s disk': disk,
    'another VM’s vm.json': vp.configFile,
    'another VM’s UEFI variables': vp.varsFile,
    'another VM’s qemu.log': vp.qemuLog,
    'the engine lock': join(t.home, 'engine.lock'),
    'a running VM’s QMP socket': engine.paths(target.id).qmpSocket,
    'the runtime dir': runtimeRoot(t.home, t.env),
    'Hangar’s home': t.home,
    'a symlink to another VM’s disk': join(U, 'link-to-disk'),
    'a path through a symlink to the home': join(U, 'link-to-home', 'vms', victim.id, 'disk0.qcow2'),
    '.. into the home': `${U}/../home/vms/${victim.id}/disk0.qcow2`,
    '// spelling of a disk': disk.replace('/vms/', '//vms//'),
    'a FIFO': join(U, 'fifo'),
    'a symlink to a FIFO': join(U, 'link-to-fifo'),
    'a directory': join(U, 'dir'),
    '/dev/zero': '/dev/zero',
    '/dev/null': '/dev/null',
    'a symlink to /dev/zero': join(U, 'link-to-zero'),
    'a symlink loop': join(U, 'loop1'),
    'a missing file': join(U, 'missing.img'),
    'an image built on a file outside, unconfirmed': chained('outside.qcow2', join(U, 'secret'), 'raw'),
    'an image built on another VM’s disk': chained('on-victim.qcow2', disk, 'qcow2'),
    'an image built on a file through a symlink into the home': chained(
      'via-link.qcow2',
      join(U, 'link-to-disk'),
      'qcow2',
    ),
    'an image whose chain names no format': chained('no-format.qcow2', join(U, 'secret'), null),
    'an image whose chain loops': (() => {
      const a = join(U, 'loop-a.qcow2');
      const b = chained('loop-b.qcow2', a, 'qcow2');
      qemuImg('create', '-q', '-f', 'qcow2', a, '8M');
      qemuImg('rebase', '-u', '-F', 'qcow2', '-b', b, a);
      return a;
    })(),
  });
});

afterAll(() => closeEngine(engine, t));

/** The same file spelled another way: ./ and // inserted, which the policy must see through. */
const dressed = fc.integer({ min: 0, max: 3 }).map((n) => (p: string) => {
  if (n === 1) return p.replace(/\/([^/]+)$/, '/./$1');
  if (n === 2) return p.replace(/\//g, (m, i: number) => (i > 0 && i % 2 === 0 ? '//' : m));
  if (n === 3) return p.replace(/\/([^/]+)$/, '/../' + p.split('/').at(-2) + '/$1');
  return p;
});

type Method = (path: string) => [string, unknown];
const METHODS: Record<string, Method> = {
  'vm.create disk in place': (path) => ['vm.create', { name: 'x', disk: { kind: 'existing', path } }],
  'vm.create disk copied': (path) => [
    'vm.create',
    { name: 'x', disk: { kind: 'existing', path, copy: true } },
  ],
  'vm.create ISO': (path) => ['vm.create', { name: 'x', disk: { kind: 'none' }, iso: path }],
  'vm.create kernel': (path) => [
    'vm.create',
    { name: 'x', disk: { kind: 'none' }, directBoot: { kernel: path } },
  ],
  'vm.create initrd': (path) => [
    'vm.create',
    { name: 'x', disk: { kind: 'none' }, directBoot: { kernel: join(U, 'plain.iso'), initrd: path } },
  ],
  'disk.add in place': (path) => ['disk.add', { vm: 'victim', disk: { kind: 'existing', path } }],
  'disk.add copied': (path) => ['disk.add', { vm: 'victim', disk: { kind: 'existing', path, copy: true } }],
  'media.insert': (path) => ['media.insert', { vm: 'target', path }],
  'disk.info': (path) => ['disk.info', { path }],
  'vm.edit kernel': (path) => ['vm.edit', { vm: 'victim', patch: { directBoot: { kernel: path } } }],
};

const DISK_METHODS = new Set([
  'vm.create disk in place',
  'vm.create disk copied',
  'disk.add in place',
  'disk.add copied',
]);

async function outcome(method: string, params: unknown): Promise<string> {
  try {
    await api.call(method, params);
    return 'accepted';
  } catch (err) {
    return err instanceof HangarError ? err.code : `raw ${String(err)}`;
  }
}

describe('every path-taking method refuses what the policy refuses', () => {
  it('accepts none of the hostile paths, however spelled, and still accepts a plain file', async () => {
    // Positive control: the same methods take a user's plain file (the test is not vacuous).
    const plain = join(U, 'plain.iso');
    expect(await outcome(...METHODS['vm.create ISO']!(plain))).toBe('accepted');
    expect(await outcome(...METHODS['media.insert']!(plain))).toBe('accepted');
    let calls = 0;
    const accepted: string[] = [];
    const raw: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(hostile)),
        fc.constantFrom(...Object.keys(METHODS)),
        dressed,
        async (what, method, dress) => {
          // A backing chain matters only where the file is opened as a disk image: as an ISO or
          // a kernel it is read as plain bytes, and disk.info reports the chain without opening it.
          if (what.startsWith('an image') && !DISK_METHODS.has(method)) return;
          const path = dress(hostile[what]!);
          const [name, params] = METHODS[method]!(path);
          const result = await outcome(name, params);
          calls++;
          if (result === 'accepted') accepted.push(`${method} took ${what} (${path})`);
          if (result.startsWith('raw') || result === 'INTERNAL') raw.push(`${method} on ${what}: ${result}`);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    const names = (await api.call('vm.list', {})) as { name: string }[];
    console.log(
      `paths: ${calls} calls of ${Object.keys(METHODS).length} path-taking methods with ` +
        `${Object.keys(hostile).length} kinds of hostile path (seed ${SEED}): ${accepted.length} accepted, ` +
        `${raw.length} unexplained errors`,
    );
    expect(accepted).toEqual([]);
    expect(raw).toEqual([]);
    // Nothing was made from a refused call: only the two VMs and the positive control's.
    expect(names.map((v) => v.name).sort()).toEqual(['target', 'victim', 'x']);
    expect(engine.store.load(victim.id).disks).toHaveLength(1);
    expect(engine.store.load(victim.id).directBoot).toBeNull();
  });
});
