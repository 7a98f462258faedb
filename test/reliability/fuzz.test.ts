// Input fuzzing. Every API method (read from ApiParams, so a new method is covered the day it is
// added) is called thousands of times on a real engine with hostile params: names with commas,
// quotes, control characters and leading dashes; paths that are relative, hold `..` or NUL, do not
// exist, are directories, FIFOs or /dev files; sizes and ports out of range or of the wrong type;
// extra and prototype-polluting keys. Each call must succeed or fail with a HangarError whose code
// is a known one other than INTERNAL, within a time limit; no rejection may go unhandled; nothing
// outside the engine's home may be created or changed. Then the QEMU command line is fuzzed: for
// any config the schema accepts, no user text may add an option or a key=value pair.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiParams, type ApiMethod } from '../../src/shared/api';
import { ERROR_CODES, HangarError } from '../../src/shared/errors';
import { CheckedVmConfig, type VmConfig } from '../../src/shared/vm';
import { Engine } from '../../src/main/engine/engine';
import { createDispatcher, type Dispatcher } from '../../src/main/api/dispatch';
import { deleteVm } from '../../src/main/engine/vms/manage';
import { buildArgv, type LaunchPaths } from '../../src/main/engine/qemu/argv';
import { SMBD } from '../../src/main/engine/share/folder';
import { HOST } from '../../src/main/engine/testing/fixtures';
import { tempHome } from '../support/env';
import { seedDemoCache } from '../support/guest';
import { parseOpts, shellWords, splitOpts, VERBATIM_OPTIONS, walkArgv } from './support/qemu-opts';
import { makeIso } from '../support/iso';

const RUNS = Number(process.env.HANGAR_FUZZ_RUNS ?? 300);
const ARGV_RUNS = Number(process.env.HANGAR_FUZZ_ARGV_RUNS ?? 5000);
const CALL_LIMIT_MS = 30_000;
const SEED = Number(process.env.HANGAR_FUZZ_SEED ?? Date.now() % 2 ** 31);

// Made in beforeAll, so a run filtered to the command-line tests leaves no directory behind.
let t: ReturnType<typeof tempHome>;
/** Files the fuzzer points at. Everything in it is checked before and after. */
let S = '';
let engine: Engine;
let api: Dispatcher;

// ---------------------------------------------------------------- hostile values

const HUGE = 'x'.repeat(70_000);
const NAMES = [
  '',
  ' ',
  '   ',
  'ok-name',
  'a,b',
  'a,,b',
  ',',
  'x,id=evil',
  'x,,,id=evil',
  'guest=evil,debug-threads=on',
  "quo'te",
  'dq"uote',
  'back\\slash',
  'new\nline',
  'cr\rret',
  'tab\tbed',
  'nul\u0000byte',
  'bell\u0007',
  'esc\u001b[31mred',
  'c1\u0085next',
  'del\u007f',
  'rtl\u202eevil',
  'zero\u200bwidth',
  'line\u2028sep',
  'ünïcödé',
  '日本語の名前',
  '🚀 rocket',
  'lone\ud800surrogate',
  '-name',
  '--help',
  '-drive file=/etc/passwd',
  '-device',
  '../../etc/passwd',
  '/abs/path',
  '$(touch /tmp/pwned)',
  '`id`',
  '; rm -rf /',
  '%s%n%x',
  '{"json":1}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'NaN',
  'a'.repeat(100),
  'a'.repeat(101),
  'é'.repeat(100),
  HUGE,
];

const SYSTEM_DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/urandom'];
const PATHS = () => [
  `${S}/does-not-exist.img`,
  `${S}/dir`,
  `${S}/empty`,
  `${S}/garbage.img`,
  `${S}/disk.qcow2`,
  `${S}/disk.raw`,
  `${S}/test.iso`,
  `${S}/fifo`,
  `${S}/kernel`,
  `${S}/link-to-iso`,
  `${S}/dangling-link`,
  `${S}/a,b.qcow2`,
  `${S}/sp ace.qcow2`,
  `${S}/-dash.qcow2`,
  `${S}/new\nline.img`,
  `${S}/../hangar-fuzz-outside-new.img`,
  `${S}/./disk.qcow2`,
  `${S}//disk.raw`,
  `${S}/dir/../disk.raw`,
  `${S}/nul\u0000byte.img`,
  `${S}/${'a'.repeat(300)}.img`,
  `/${'a'.repeat(5000)}`,
  `/nonexistent-hangar-fuzz/${'deep/'.repeat(3)}x.img`,
  ...SYSTEM_DEVICES,
  '/',
  S,
  'relative/path.img',
  './disk.qcow2',
  '../disk.qcow2',
  '~/disk.qcow2',
  '',
  '/',
  'C:\\disk.img',
  'file:///etc/passwd',
  'nbd://127.0.0.1/x',
  'json:{"driver":"file","filename":"/etc/passwd"}',
  '-blockdev',
];

const SIZES: unknown[] = [
  '0',
  '-1',
  '1',
  '512',
  '1M',
  '1023K',
  '0.5M',
  '1.5G',
  '20G',
  '64T',
  '65T',
  '1P',
  '1e9',
  'NaN',
  'Infinity',
  '-20G',
  ' 20G ',
  '20 G',
  '20GiB',
  '20gb',
  '0x100',
  '1,5G',
  '',
  '20G\n',
  '9'.repeat(400),
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  1 << 20,
  Number.MAX_VALUE,
];

const PORTS: unknown[] = [
  0,
  1,
  22,
  80,
  1023,
  2222,
  65535,
  65536,
  -1,
  1.5,
  Number.NaN,
  Infinity,
  '22',
  null,
  2 ** 31,
];
const MONITOR = [
  'info status',
  'info version',
  'quit',
  'q',
  'migrate "exec:touch __S__/pwned-migrate"',
  'drive_add 0 file=/etc/passwd',
  `screendump __S__/pwned-screen.ppm`,
  'gdbserver tcp::1234',
  'hostfwd_add tcp::2222-:22',
  'info\nquit',
  ' info registers',
  'x /1x 0',
  'system_powerdown',
  'stop',
  'cont',
  'help',
  'i 0x60',
  'sum 0 16',
  'info block',
  'info chardev',
];

const interesting = (values: unknown[]) => fc.constantFrom(...values);
const anyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const weird = fc.anything({
  maxDepth: 2,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
});

/** Plain objects with own keys that would pollute prototypes if merged carelessly. */
const pollution = fc.constantFrom(
  JSON.parse('{"__proto__": {"polluted": "yes"}}') as object,
  JSON.parse('{"constructor": {"prototype": {"polluted": "yes"}}}') as object,
  JSON.parse('{"__proto__": {"vm": "x", "polluted": "yes"}, "prototype": 1}') as object,
);

// ---------------------------------------------------------------- params from the schemas

let refs: string[] = [];
const snapshotRefs = ['base', 'nope', '', 'hs-00000000'];
const NUMBER_POOLS: Record<string, unknown[]> = {
  hostPort: PORTS,
  guestPort: PORTS,
  cpus: [0, 1, 2, 3, 256, 257, -1, 1.5, Number.NaN],
  memoryMiB: [0, 31, 32, 64, 128, 257, 1_000_000, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1, -64, 64.5],
  lines: [0, 1, 200, 5000, 5001, -1, 1.5],
  timeoutSec: [0, 1, 2, 3600, 3601, -1, Number.NaN],
};
const GENERIC_NUMBERS = [
  0,
  -0,
  -1,
  1,
  1.5,
  65536,
  2 ** 53,
  Number.NaN,
  Infinity,
  -Infinity,
  Number.MAX_VALUE,
];

function stringFor(key: string): fc.Arbitrary<unknown> {
  switch (key) {
    case 'vm':
      return fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...refs) },
        { weight: 2, arbitrary: interesting(NAMES) },
      );
    case 'name':
    case 'description':
      return fc.oneof(interesting(NAMES), anyString);
    case 'snapshot':
      return fc.oneof(interesting(snapshotRefs), interesting(NAMES));
    case 'path':
    case 'iso':
    case 'kernel':
    case 'initrd':
      return fc.oneof(
        { weight: 4, arbitrary: interesting(PATHS()) },
        { weight: 1, arbitrary: anyString.map((s) => `/${s}`) },
      );
    case 'size':
      return interesting(SIZES.filter((s) => typeof s === 'string'));
    case 'disk':
    case 'drive':
      return interesting([
        'disk0',
        'disk1',
        'cd0',
        'nic0',
        '',
        'DISK0',
        '../x',
        'disk0,id=x',
        'a'.repeat(16),
        'a'.repeat(17),
      ]);
    case 'keys':
      return interesting([
        'ctrl-alt-delete',
        'a',
        'ret',
        'ctrl-alt-f1',
        '+',
        '-',
        '',
        'x'.repeat(100),
        'ctrl-\u0000',
        'bogus-key',
      ]);
    case 'text':
      return fc.oneof(interesting(['hello\n', '日本', '\u0000\u0001', 'a'.repeat(300)]), anyString);
    case 'command':
      return fc.oneof(interesting(MONITOR.map((m) => m.replace('__S__', S))), anyString);
    case 'cmdline':
      return fc.oneof(
        interesting(['console=ttyS0', '-append x', 'a\u0000b', 'init=/bin/sh -- -x', 'a,b=c']),
        anyString,
      );
    case 'cpuModel':
      return interesting([
        'max',
        'qemu64',
        'host',
        '-device',
        'qemu64,+vmx',
        'a'.repeat(64),
        'a'.repeat(65),
        'Skylake-Client',
      ]);
    case 'machine':
      return interesting([
        'q35',
        'pc',
        'pc-q35-7.2',
        'pc-q35-99.9',
        'microvm',
        'none',
        'isapc',
        '-x',
        'q35,accel=kvm',
      ]);
    default:
      return fc.oneof(interesting(NAMES), anyString);
  }
}

type ZodLike = { _zod: { def: Record<string, unknown> & { type: string } } };

/** An arbitrary that mostly fits the schema's shape, with hostile leaves and, now and then, the wrong type. */
function arbOf(schema: ZodLike, key = ''): fc.Arbitrary<unknown> {
  const def = schema._zod.def;
  const inner = (s: unknown, k = key) => arbOf(s as ZodLike, k);
  let typed: fc.Arbitrary<unknown>;
  switch (def.type) {
    case 'object': {
      const shape = def.shape as Record<string, ZodLike>;
      const model = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, inner(v, k)]));
      const required = Object.entries(shape)
        .filter(([, v]) => !['optional', 'default'].includes(v._zod.def.type))
        .map(([k]) => k);
      const record = fc.oneof(
        { weight: 6, arbitrary: fc.record(model, { requiredKeys: required }) },
        { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) },
      );
      typed = fc.oneof(
        { weight: 8, arbitrary: record },
        {
          weight: 2,
          arbitrary: fc
            .tuple(record, pollution, fc.dictionary(anyString, weird, { maxKeys: 2 }))
            .map(([r, p, extra]) => Object.assign(Object.create(null) as object, extra, p, r)),
        },
      );
      // Plain objects: JSON.parse made the polluting keys own properties, Object.assign keeps them.
      typed = typed.map((o) => ({ ...(o as object) }));
      break;
    }
    case 'string':
      typed = stringFor(key);
      break;
    case 'number':
      typed = key === 'size' ? interesting(SIZES) : interesting(NUMBER_POOLS[key] ?? GENERIC_NUMBERS);
      break;
    case 'boolean':
      typed = fc.boolean();
      break;
    case 'enum':
      typed = fc.constantFrom(...Object.values(def.entries as Record<string, string>));
      break;
    case 'literal':
      typed = fc.constantFrom(...(def.values as unknown[]));
      break;
    case 'optional':
    case 'default':
      typed = fc.option(inner(def.innerType), { nil: undefined, freq: 3 });
      break;
    case 'nullable':
      typed = fc.option(inner(def.innerType), { nil: null, freq: 3 });
      break;
    case 'union':
      typed = fc.oneof(...(def.options as ZodLike[]).map((o) => inner(o)));
      break;
    case 'array': {
      const el = inner(def.element);
      typed = fc.oneof(
        { weight: 6, arbitrary: fc.array(el, { maxLength: 3 }) },
        // Duplicates (the same forward twice) and more than the schema's maximum.
        { weight: 1, arbitrary: el.chain((e) => fc.constant([e, e])) },
        { weight: 1, arbitrary: fc.array(el, { minLength: 65, maxLength: 70 }) },
      );
      break;
    }
    case 'record':
      typed = fc.dictionary(anyString, inner(def.valueType), { maxKeys: 3 });
      break;
    default:
      typed = weird;
  }
  return fc.oneof({ weight: 12, arbitrary: typed }, { weight: 1, arbitrary: weird });
}

function paramsFor(method: ApiMethod): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 12, arbitrary: arbOf(ApiParams[method] as unknown as ZodLike) },
    { weight: 1, arbitrary: weird },
    { weight: 1, arbitrary: pollution },
    { weight: 1, arbitrary: interesting([null, undefined, [], '', 'vm', 0, true, Object.create(null)]) },
  );
}

// ---------------------------------------------------------------- bounds (documented)

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Keeps the run short without hiding a class of input: preallocated disks are real writes (a full
 * 20G disk would take minutes), so preallocation comes with 8M (sizes beyond the free space are
 * tested below, under "what the fuzzing found"); a graceful stop waits for a guest that has no OS to
 * answer the power button, so it gets 1-2 s; typing is capped at 300 keys; memory between 256 MiB
 * and the host's size is lowered to 256 MiB because the targets really start.
 */
function bound(method: string, params: unknown): unknown {
  if (!isObject(params)) return params;
  const p = { ...params };
  const disk = p.disk;
  if (
    isObject(disk) &&
    disk.kind === 'new' &&
    disk.preallocation !== undefined &&
    disk.preallocation !== 'off'
  ) {
    p.disk = { ...disk, size: '8M' };
  }
  if (method === 'vm.stop' && p.force !== true) {
    if (typeof p.timeoutSec !== 'number' || p.timeoutSec > 2) p.timeoutSec = 2;
    if (typeof p.forceAfterSec === 'number' && p.forceAfterSec > 2) p.forceAfterSec = 2;
  }
  // Waits are the point of these methods; the fuzzer wants their answers, not their patience.
  if (
    (method === 'vm.wait' || method === 'vm.exec') &&
    (typeof p.timeoutSec !== 'number' || p.timeoutSec > 2)
  )
    p.timeoutSec = 2;
  if (typeof p.text === 'string' && p.text.length > 300) p.text = p.text.slice(0, 300);
  for (const holder of [p, isObject(p.patch) ? p.patch : null]) {
    if (!holder) continue;
    const mem = holder.memoryMiB;
    if (typeof mem === 'number' && mem > 256 && mem <= HOST.hostMemoryMiB) holder.memoryMiB = 256;
  }
  if (isObject(p.patch)) p.patch = { ...p.patch };
  return p;
}

// ---------------------------------------------------------------- the outside world

interface Entry {
  type: string;
  size: number;
  mode: number;
  hash: string;
}

function typeOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'link';
  if (st.isDirectory()) return 'dir';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isSocket()) return 'socket';
  return 'file';
}

function snapshotTree(root: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const type = typeOf(st);
      const hash = type === 'file' ? createHash('sha256').update(readFileSync(p)).digest('hex') : '';
      out.set(p, { type, size: type === 'file' ? st.size : 0, mode: st.mode, hash });
      if (type === 'dir') walk(p);
    }
  };
  walk(root);
  return out;
}

function systemState(): string {
  return SYSTEM_DEVICES.map((d) => {
    const st = lstatSync(d);
    return `${d}:${typeOf(st)}:${st.rdev}:${st.mode.toString(8)}`;
  }).join(' ');
}

function makeOutside(): void {
  mkdirSync(join(S, 'dir'));
  writeFileSync(join(S, 'empty'), '');
  writeFileSync(join(S, 'garbage.img'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) % 256)));
  makeIso(join(S, 'test.iso'));
  writeFileSync(join(S, 'kernel'), Buffer.alloc(4096, 1));
  const img = (name: string, format: string) =>
    execFileSync(HOST.qemuImg.path, ['create', '-q', '-f', format, join(S, name), '8M']);
  img('disk.qcow2', 'qcow2');
  img('disk.raw', 'raw');
  img('a,b.qcow2', 'qcow2');
  img('sp ace.qcow2', 'qcow2');
  img('-dash.qcow2', 'qcow2');
  execFileSync('mkfifo', [join(S, 'fifo')]);
  symlinkSync(join(S, 'test.iso'), join(S, 'link-to-iso'));
  symlinkSync(join(S, 'gone'), join(S, 'dangling-link'));
}

/** Absolute paths anywhere in a value. */
function pathsIn(v: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 6) return out;
  if (typeof v === 'string') {
    if (v.startsWith('/') && !v.includes('\u0000') && v.length < 4096) out.add(v);
  } else if (Array.isArray(v)) v.forEach((x) => pathsIn(x, out, depth + 1));
  else if (isObject(v)) for (const k of Object.keys(v)) pathsIn(v[k], out, depth + 1);
  return out;
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** External disks a call's result attached: these may be written, as documented (used in place). */
function externalDisksIn(v: unknown, out: Set<string>, depth = 0): void {
  if (depth > 6) return;
  if (Array.isArray(v)) v.forEach((x) => externalDisksIn(x, out, depth + 1));
  else if (isObject(v)) {
    if (v.owned === false && typeof v.path === 'string') out.add(v.path);
    for (const k of Object.keys(v)) externalDisksIn(v[k], out, depth + 1);
  }
}

// ---------------------------------------------------------------- targets

const TARGETS = { stopped: 'fz-stopped', running: 'fz-running', template: 'fz-template' } as const;
let targetIds: Record<keyof typeof TARGETS, string>;

async function makeTarget(name: string): Promise<VmConfig> {
  return (await api.call('vm.create', {
    name,
    osType: 'linux',
    cpus: 1,
    memoryMiB: 64,
    firmware: 'bios',
    disk: { kind: 'new', size: '16M', format: 'qcow2' },
    iso: join(S, 'test.iso'),
    network: { portForwards: [] },
  })) as VmConfig;
}

async function forceStop(id: string): Promise<void> {
  const s = engine.runtime(id).state;
  if (s !== 'stopped' && s !== 'crashed') await engine.stop(id, { force: true });
}

/**
 * Targets a call grew (disk.resize): a live full backup of a disk grown to tens of TiB walks every
 * cluster and takes minutes, which the next method's calls would count as hangs.
 */
const grown = new Set<string>();

/** Whether a target is still as it was made (the fuzzer may have edited, started or templated it). */
function targetHealthy(id: string): boolean {
  if (grown.has(id)) return false;
  const role = (Object.keys(targetIds) as (keyof typeof TARGETS)[]).find((k) => targetIds[k] === id);
  const e = engine.store.list().find((x) => x.id === id);
  if (!role || !e?.ok) return false;
  const c = e.config;
  const state = engine.runtime(id).state;
  return (
    c.name === TARGETS[role] &&
    c.template === (role === 'template') &&
    !c.baseline &&
    !c.linkedTo &&
    c.disks.length === 1 &&
    c.disks[0]!.owned &&
    c.disks[0]!.format === 'qcow2' &&
    c.cdroms.length === 1 &&
    c.memoryMiB <= 256 &&
    c.cpus === 1 &&
    c.directBoot === null &&
    c.firmware === 'bios' &&
    !c.tpm &&
    c.machine === 'q35' &&
    c.cpuModel === null &&
    state === (role === 'running' ? 'running' : 'stopped')
  );
}

/** Removes every VM the fuzzer made and puts the three targets back as they were meant to be. */
async function resetWorld(attached: Set<string>): Promise<void> {
  for (const e of engine.store.list()) if (e.ok) externalDisksIn(e.config, attached);
  for (let round = 0; round < 4; round++) {
    const doomed = engine.store.list().filter((e) => !targetHealthy(e.id));
    if (doomed.length === 0) break;
    // Linked clones before templates.
    doomed.sort((a, b) => Number(b.ok && !!b.config.linkedTo) - Number(a.ok && !!a.config.linkedTo));
    for (const e of doomed) {
      try {
        await forceStop(e.id);
        await deleteVm(engine, e.id);
      } catch {
        // A dependent still exists; the next round gets it.
      }
    }
  }
  const ids = new Set(engine.store.list().map((e) => e.id));
  for (const id of [...grown]) if (!ids.has(id)) grown.delete(id);
  if (!ids.has(targetIds.stopped)) {
    const c = await makeTarget(TARGETS.stopped);
    targetIds.stopped = c.id;
    await api.call('snapshot.create', { vm: c.id, name: 'base' });
  }
  if (!ids.has(targetIds.running)) {
    targetIds.running = (await makeTarget(TARGETS.running)).id;
    await api.call('vm.start', { vm: targetIds.running });
  }
  if (!ids.has(targetIds.template)) {
    targetIds.template = (await makeTarget(TARGETS.template)).id;
    await api.call('template.set', { vm: targetIds.template, template: true });
  }
  refs = [...Object.values(targetIds), ...Object.values(TARGETS)];
}

// ---------------------------------------------------------------- the run

interface Crash {
  method: string;
  params: string;
  error: string;
}

const stats = { calls: 0, ok: 0, crashes: [] as Crash[], hangs: [] as Crash[], created: [] as string[] };
const codes = new Map<string, number>();
/** The first message seen for each code: proof that each rejection says what is wrong. */
const samples = new Map<string, string>();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const attached = new Set<string>();
let outsideBefore: Map<string, Entry>;
let systemBefore: string;

function show(v: unknown): string {
  try {
    const s = JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'bigint' ? `${x}n` : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x,
    );
    return (s ?? String(v)).slice(0, 400);
  } catch {
    return String(v).slice(0, 400);
  }
}

function noteGrown(params: unknown): void {
  const ref = isObject(params) ? params.vm : undefined;
  if (typeof ref !== 'string') return;
  try {
    grown.add(engine.resolve(ref).id);
  } catch {
    // Not a VM any more.
  }
}

async function probe(method: string, params: unknown): Promise<void> {
  const paths = [...pathsIn(params)].filter((p) => !exists(p));
  stats.calls++;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), CALL_LIMIT_MS)));
  try {
    const result = await Promise.race([api.call(method, params), limit]);
    if (result === 'hang')
      stats.hangs.push({ method, params: show(params), error: `no answer in ${CALL_LIMIT_MS} ms` });
    else {
      stats.ok++;
      externalDisksIn(result, attached);
      if (method === 'disk.resize') noteGrown(params);
    }
  } catch (err) {
    const code = err instanceof HangarError ? err.code : `raw ${(err as Error)?.name ?? typeof err}`;
    codes.set(code, (codes.get(code) ?? 0) + 1);
    if (!samples.has(code))
      samples.set(code, `${method}: ${String((err as Error)?.message ?? err).slice(0, 140)}`);
    const known = err instanceof HangarError && (ERROR_CODES as readonly string[]).includes(err.code);
    if (!known || code === 'INTERNAL' || !(err as Error).message)
      stats.crashes.push({
        method,
        params: show(params),
        error: `${code}: ${String((err as Error)?.message ?? err)}`,
      });
  } finally {
    clearTimeout(timer);
  }
  for (const p of paths) if (exists(p)) stats.created.push(`${method}: ${p}`);
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  t = tempHome('hangar-fuzz-');
  // vm.demo builds nothing here: the guest is seeded in this run's own cache.
  (t.env as NodeJS.ProcessEnv).XDG_CACHE_HOME = seedDemoCache(
    mkdtempSync(join(tmpdir(), 'hangar-fuzz-cache-')),
  );
  S = mkdtempSync(join(tmpdir(), 'hangar-fuzz-outside-'));
  makeOutside();
  outsideBefore = snapshotTree(S);
  systemBefore = systemState();
  engine = await Engine.open({ env: t.env, home: t.home });
  api = createDispatcher(engine);
  targetIds = { stopped: '', running: '', template: '' };
  await resetWorld(attached);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  if (engine) {
    for (const vm of engine.list()) await forceStop(vm.id).catch(() => undefined);
    await engine.close();
  }
  t?.cleanup();
  if (S) rmSync(S, { recursive: true, force: true });
  const cache = (t?.env as NodeJS.ProcessEnv | undefined)?.XDG_CACHE_HOME;
  if (cache) rmSync(cache, { recursive: true, force: true });
});

describe('API fuzzing against a real engine', () => {
  const methods = Object.keys(ApiParams) as ApiMethod[];

  it(`calls every one of the ${methods.length} methods with hostile params`, async () => {
    console.log(
      `fuzz: seed ${SEED}, ${RUNS} runs per method (HANGAR_FUZZ_SEED and HANGAR_FUZZ_RUNS override)`,
    );
    const started = Date.now();
    for (const [i, method] of methods.entries()) {
      const t0 = Date.now();
      await resetWorld(attached);
      const t1 = Date.now();
      await fc.assert(
        fc.asyncProperty(paramsFor(method), async (params) => {
          await probe(method, bound(method, params));
        }),
        { numRuns: RUNS, seed: SEED + i, endOnFailure: true },
      );
      if (process.env.HANGAR_FUZZ_DEBUG)
        console.log(`fuzz: ${method}: reset ${t1 - t0} ms, calls ${Date.now() - t1} ms`);
    }
    // Method names that are not methods, including ones every object inherits.
    for (const m of [
      '',
      'vm',
      'VM.LIST',
      'vm.list ',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'vm.__proto__',
    ])
      await probe(m, {});
    await resetWorld(attached);

    // Overlapping calls: the same hostile params, all at once, on the same targets.
    const burst = fc.sample(
      fc.constantFrom(...methods).chain((m) => paramsFor(m).map((p) => [m, bound(m, p)] as const)),
      { numRuns: 300, seed: SEED },
    );
    await Promise.all(burst.map(([m, p]) => probe(m, p)));
    await resetWorld(attached);
    const seconds = ((Date.now() - started) / 1000).toFixed(0);

    const byCode = [...codes.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    console.log(
      `fuzz: ${stats.calls.toLocaleString('en')} API calls over ${methods.length} methods in ${seconds} s: ` +
        `${stats.ok.toLocaleString('en')} succeeded, failures by code: ${byCode}`,
    );
    for (const [code, text] of samples)
      console.log(`fuzz:   e.g. ${code} from ${text.replaceAll('\n', ' ')}`);
    console.log(
      `fuzz: ${stats.crashes.length} crashes, ${stats.hangs.length} hangs, ${unhandled.length} unhandled rejections, ` +
        `${stats.created.length} files created at fuzzed paths`,
    );
    expect(stats.crashes.slice(0, 20)).toEqual([]);
    expect(stats.hangs.slice(0, 20)).toEqual([]);
    expect(stats.created).toEqual([]);
    expect(unhandled.map(String)).toEqual([]);
  });

  it('changed nothing outside its home: no prototype, device or file outside', () => {
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(systemState()).toBe(systemBefore);
    const after = snapshotTree(S);
    const problems: string[] = [];
    for (const p of after.keys()) if (!outsideBefore.has(p)) problems.push(`created ${p}`);
    for (const [p, e] of outsideBefore) {
      const now = after.get(p);
      if (!now) problems.push(`removed ${p}`);
      else if (now.type !== e.type) problems.push(`${p} was a ${e.type}, is a ${now.type}`);
      else if (now.mode !== e.mode)
        problems.push(`${p} mode ${e.mode.toString(8)} -> ${now.mode.toString(8)}`);
      // An image attached as an external disk is used in place (documented): a VM writes it, a
      // snapshot or resize changes it. Nothing else may change.
      else if (now.hash !== e.hash && !attached.has(p) && !isAttachedAlias(p))
        problems.push(`${p} changed though no VM used it`);
    }
    console.log(
      `fuzz: outside the home: ${outsideBefore.size} files watched, ${attached.size} used in place as external disks, ` +
        `${problems.length} unexpected changes`,
    );
    expect(problems).toEqual([]);
  });
});

describe('what the fuzzing found, pinned', () => {
  async function code(method: string, params: unknown): Promise<{ code: string; message: string }> {
    try {
      await api.call(method, params);
      return { code: 'OK', message: '' };
    } catch (err) {
      return {
        code: err instanceof HangarError ? err.code : `raw ${String(err)}`,
        message: (err as Error).message,
      };
    }
  }

  it('refuses a FIFO, directory or device as an image at once (qemu-img blocked on a FIFO for good)', async () => {
    const fifo = join(S, 'fifo');
    for (const [method, params] of [
      ['disk.info', { path: fifo }],
      ['disk.info', { path: join(S, 'dir') }],
      ['disk.info', { path: '/dev/zero' }],
      ['disk.add', { vm: targetIds.stopped, disk: { kind: 'existing', path: fifo } }],
      ['disk.add', { vm: targetIds.stopped, disk: { kind: 'existing', path: fifo, format: 'raw' } }],
      [
        'disk.add',
        { vm: targetIds.stopped, disk: { kind: 'existing', path: fifo, format: 'raw', copy: true } },
      ],
    ] as const) {
      const r = await code(method, params);
      expect(r.code, `${method} ${JSON.stringify(params)}: ${r.message}`).toBe('INVALID_INPUT');
      expect(r.message).toMatch(/FIFO|directory|device/);
    }
  });

  it('refuses a NUL in the kernel command line (spawn() would have failed the start with a TypeError)', async () => {
    const directBoot = { kernel: join(S, 'kernel'), cmdline: 'console=ttyS0\u0000init=/bin/sh' };
    expect((await code('vm.create', { name: 'nul-cmdline', disk: { kind: 'none' }, directBoot })).code).toBe(
      'INVALID_INPUT',
    );
    expect((await code('vm.edit', { vm: targetIds.stopped, patch: { directBoot } })).code).toBe(
      'INVALID_INPUT',
    );
  });

  it('refuses a CPU model that starts with a dash (it stood alone after -cpu)', async () => {
    for (const cpuModel of ['-device', '-', '--help'])
      expect((await code('vm.edit', { vm: targetIds.stopped, patch: { cpuModel } })).code).toBe(
        'INVALID_INPUT',
      );
    expect((await code('vm.edit', { vm: targetIds.stopped, patch: { cpuModel: 'qemu64' } })).code).toBe('OK');
    expect((await code('vm.edit', { vm: targetIds.stopped, patch: { cpuModel: null } })).code).toBe('OK');
  });

  it('bounds an edit by the host as creation does', async () => {
    const more = { cpus: engine.host.hostCpus + 1 };
    expect((await code('vm.edit', { vm: targetIds.stopped, patch: more })).code).toBe('INVALID_INPUT');
    const mem = { memoryMiB: engine.host.hostMemoryMiB + 1 };
    expect((await code('vm.edit', { vm: targetIds.stopped, patch: mem })).code).toBe('INVALID_INPUT');
  });

  it('refuses a preallocated disk larger than the free space before writing a byte', async () => {
    const before = engine.store.list().length;
    for (const preallocation of ['full', 'falloc'] as const) {
      for (const format of ['raw', 'qcow2'] as const) {
        const disk = { kind: 'new', size: '64T', format, preallocation };
        const made = await code('vm.create', { name: `prealloc-${format}`, disk });
        expect(made.code, made.message).toBe('IO_ERROR');
        expect(made.message).toMatch(/needs .* free/);
        const added = await code('disk.add', { vm: targetIds.stopped, disk });
        expect(added.code, added.message).toBe('IO_ERROR');
      }
    }
    expect(engine.store.list().length).toBe(before);
    // qemu-img's "Unsupported preallocation mode" for raw, said as the input problem it is.
    const raw = { kind: 'new', size: '8M', format: 'raw', preallocation: 'metadata' };
    const r = await code('disk.add', { vm: targetIds.stopped, disk: raw });
    expect(r.code, r.message).toBe('INVALID_INPUT');
    expect(r.message).toMatch(/no metadata to preallocate/);
  });
});

/** `${S}/./disk.qcow2` and `${S}//disk.raw` name the same file as an attached path may. */
function isAttachedAlias(p: string): boolean {
  for (const a of attached) if (existsSync(a) && lstatSync(a).ino === lstatSync(p).ino) return true;
  return false;
}

// ---------------------------------------------------------------- the QEMU command line

const hostile = fc.oneof(
  interesting([
    ',',
    ',,',
    'a,b',
    'x,id=evil',
    '=',
    'a=b',
    ' ',
    '"',
    "'",
    '\\',
    '-x',
    '--',
    '{',
    '}',
    ':',
    'unix:',
    '\n',
    '日本',
    '🚀',
  ]),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
const hostileText = fc.array(hostile, { minLength: 1, maxLength: 5 }).map((a) => a.join(''));
const absPath = hostileText.map((s) => `/${s.replaceAll('\u0000', '')}`);
const deviceId = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const mac = fc
  .tuple(...Array.from({ length: 5 }, () => fc.integer({ min: 0, max: 255 })))
  .map((b) => ['52', ...b.map((x) => x.toString(16).padStart(2, '0'))].join(':'));
const port = fc.integer({ min: 1, max: 65535 });

const configArb = fc
  .record({
    name: hostileText,
    osType: fc.constantFrom('linux', 'windows10', 'windows11', 'bsd', 'other'),
    cpus: fc.integer({ min: 1, max: 256 }),
    memoryMiB: fc.integer({ min: 32, max: 4 * 1024 * 1024 }),
    machine: fc.constantFrom('q35', 'q35', 'pc', 'pc-q35-7.2', 'pc-i440fx-7.2'),
    cpuModel: fc.option(
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('max', 'qemu64', 'Skylake-Client') },
        // Leading dashes included: the schema must refuse those.
        { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/) },
      ),
      { nil: null },
    ),
    firmware: fc.constantFrom('bios', 'uefi', 'uefi-secure'),
    tpm: fc.boolean(),
    disks: fc.array(
      fc.oneof(
        fc.record({
          id: deviceId,
          owned: fc.constant(true),
          file: fc.stringMatching(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,30}$/),
          format: fc.constantFrom('qcow2', 'raw'),
          bus: fc.constantFrom('virtio', 'sata', 'scsi', 'ide'),
          readOnly: fc.boolean(),
          cache: fc.constantFrom('none', 'writeback', 'writethrough', 'directsync', 'unsafe'),
          discard: fc.boolean(),
        }),
        fc.record({
          id: deviceId,
          owned: fc.constant(false),
          path: absPath,
          format: fc.constantFrom('qcow2', 'raw'),
          bus: fc.constantFrom('virtio', 'sata', 'scsi'),
          readOnly: fc.boolean(),
          cache: fc.constantFrom('none', 'writeback'),
          discard: fc.boolean(),
        }),
      ),
      { maxLength: 3 },
    ),
    cdroms: fc.array(
      fc.record({
        id: deviceId,
        bus: fc.constantFrom('sata', 'scsi', 'ide'),
        media: fc.option(absPath, { nil: null }),
      }),
      {
        maxLength: 2,
      },
    ),
    nics: fc.array(
      fc.record({
        id: deviceId,
        model: fc.constantFrom('virtio', 'e1000e', 'rtl8139'),
        mac,
        mode: fc.constantFrom('user', 'lab'),
        // Hostile segment names: the schema must refuse every one that is not a DNS label.
        segment: fc.option(
          fc.record({
            lab: fc.oneof(
              { arbitrary: fc.constantFrom('web', 'lab-1'), weight: 6 },
              { arbitrary: hostileText, weight: 1 },
            ),
            name: fc.constantFrom('lan', 'a-b', '0'),
          }),
          { nil: null, freq: 4 },
        ),
        portForwards: fc.array(
          fc.record({
            protocol: fc.constantFrom('tcp', 'udp'),
            hostAddress: fc.constantFrom('127.0.0.1', '0.0.0.0'),
            hostPort: port,
            guestPort: port,
          }),
          { maxLength: 3 },
        ),
      }),
      { maxLength: 2 },
    ),
    display: fc.record({ vga: fc.constantFrom('std', 'virtio', 'qxl', 'none'), usbTablet: fc.boolean() }),
    bootOrder: fc.shuffledSubarray(['disk', 'cdrom', 'network'] as const),
    directBoot: fc.option(
      fc.record({ kernel: absPath, initrd: fc.option(absPath, { nil: undefined }), cmdline: hostileText }),
      { nil: null },
    ),
    sharedFolder: fc.option(fc.record({ path: absPath, readOnly: fc.boolean(), over9p: fc.boolean() }), {
      nil: null,
    }),
  })
  .map((r) => {
    // Device ids are ours (never user text); made unique here so most configs pass the schema.
    const forwards = new Set<string>();
    return {
      schemaVersion: 1,
      id: 'abcdefghijkl',
      description: '',
      createdAt: '2026-11-21T00:00:00.000Z',
      updatedAt: '2026-11-21T00:00:00.000Z',
      ...r,
      disks: r.disks.map((d, i) => ({ ...d, id: `${d.id.slice(0, 10)}-d${i}` })),
      cdroms: r.cdroms.map((c, i) => ({ ...c, id: `${c.id.slice(0, 10)}-c${i}` })),
      nics: r.nics.map((n, i) => ({
        ...n,
        id: `${n.id.slice(0, 10)}-n${i}`,
        // Mostly consistent NICs (a user NIC has no segment, a lab NIC no forwards), so most configs
        // reach buildArgv; the segment's hostile lab names still have to get past the schema.
        segment: n.mode === 'user' ? null : n.segment,
        portForwards: n.portForwards.filter((f) => {
          if (n.mode === 'lab') return false;
          const key = `${f.protocol}/${f.hostPort}`;
          const fresh = !forwards.has(key);
          forwards.add(key);
          return fresh;
        }),
      })),
    };
  });

/** Paths of our own, under a home and runtime dir that are themselves hostile (a user picks them). */
const pathsArb = fc.tuple(absPath, absPath).map(([home, run]): LaunchPaths => ({
  vmDir: `${home}/vms/abcdefghijkl`,
  qmpSocket: `${run}/qmp.sock`,
  serialSocket: `${run}/serial.sock`,
  vncSocket: `${run}/vnc.sock`,
  pidFile: `${run}/qemu.pid`,
  serialLog: `${home}/vms/abcdefghijkl/serial.log`,
  varsFile: `${home}/vms/abcdefghijkl/uefi-vars.qcow2`,
  tpmSocket: `${run}/tpm.sock`,
  qgaSocket: `${run}/qga.sock`,
  runDir: run,
}));

/** The keys each option (and each -device driver) may carry; anything else is an injection. */
const DEVICE_KEYS: Record<string, string[]> = {
  'virtio-blk-pci': ['drive', 'id', 'write-cache', 'bootindex'],
  'ide-hd': ['drive', 'id', 'bus', 'unit', 'write-cache', 'bootindex'],
  'scsi-hd': ['drive', 'id', 'bus', 'write-cache', 'bootindex'],
  'ide-cd': ['id', 'bus', 'unit', 'drive', 'bootindex'],
  'scsi-cd': ['id', 'bus', 'drive', 'bootindex'],
  'virtio-net-pci': ['netdev', 'mac', 'id', 'bootindex'],
  e1000e: ['netdev', 'mac', 'id', 'bootindex'],
  rtl8139: ['netdev', 'mac', 'id', 'bootindex'],
  'virtio-scsi-pci': ['id'],
  'ich9-ahci': ['id'],
  VGA: [],
  'virtio-vga': [],
  'qxl-vga': [],
  'qemu-xhci': ['id'],
  'usb-tablet': ['bus'],
  'tpm-crb': ['tpmdev'],
  'virtio-serial-pci': ['id'],
  virtserialport: ['bus', 'chardev', 'name'],
  'isa-debugcon': ['iobase', 'chardev'],
  'virtio-9p-pci': ['fsdev', 'mount_tag'],
};

function checkArgv(vm: VmConfig, paths: LaunchPaths, argv: string[]): string[] {
  const problems: string[] = [];
  for (const a of argv) if (a.includes('\u0000')) problems.push('NUL byte in an argv element');
  let walked;
  try {
    walked = walkArgv(argv);
  } catch (err) {
    return [(err as Error).message];
  }
  const userPaths = new Set<string>([
    ...vm.disks.map((d) => (d.owned ? `${paths.vmDir}/${d.file}` : d.path)),
    ...vm.cdroms.flatMap((c) => (c.media ? [c.media] : [])),
    paths.varsFile,
    ...HOST.firmware.map((f) => f.executable.filename),
  ]);
  const ourSockets = new Set([paths.qmpSocket, paths.serialSocket, paths.qgaSocket, paths.tpmSocket]);
  const keysOnly = (option: string, value: string, head: string | null, allowed: string[]) => {
    const o = parseOpts(value);
    if (o.head !== head) problems.push(`${option} ${JSON.stringify(value)}: head ${JSON.stringify(o.head)}`);
    const seen = new Set<string>();
    for (const [k, v] of o.pairs) {
      if (!allowed.includes(k) || v === null)
        problems.push(`${option} ${JSON.stringify(value)}: key ${JSON.stringify(k)}`);
      if (seen.has(k)) problems.push(`${option} ${JSON.stringify(value)}: key ${k} twice`);
      seen.add(k);
    }
    return o;
  };
  for (const { option, value } of walked) {
    if (value === null) continue;
    if (VERBATIM_OPTIONS.has(option)) {
      const want =
        option === '-kernel'
          ? vm.directBoot?.kernel
          : option === '-initrd'
            ? vm.directBoot?.initrd
            : option === '-append'
              ? vm.directBoot?.cmdline
              : paths.pidFile;
      if (value !== want) problems.push(`${option} is ${JSON.stringify(value)}, not the config's value`);
      continue;
    }
    // Every other value: a user string never stands alone as something that looks like an option.
    if (value.startsWith('-')) problems.push(`${option} value ${JSON.stringify(value)} starts with '-'`);
    switch (option) {
      case '-name': {
        const o = keysOnly(option, value, null, ['guest']);
        if (o.pairs.length !== 1 || o.pairs[0]![1] !== vm.name)
          problems.push(`-name does not carry the name intact`);
        break;
      }
      case '-chardev': {
        if (splitOpts(value)[0] === 'ringbuf') {
          // SeaBIOS's debug port, for a BIOS VM only: a bounded ring in QEMU, no path at all.
          if (vm.firmware !== 'bios' || value !== 'ringbuf,id=fwlog,size=65536')
            problems.push(`-chardev ringbuf ${JSON.stringify(value)}`);
          break;
        }
        const o = keysOnly(option, value, 'socket', ['id', 'path', 'server', 'wait', 'logfile', 'logappend']);
        const m = new Map(o.pairs);
        if (!ourSockets.has(m.get('path') ?? ''))
          problems.push(`-chardev path ${JSON.stringify(m.get('path'))}`);
        if (m.has('logfile') && m.get('logfile') !== paths.serialLog)
          problems.push('-chardev logfile altered');
        break;
      }
      case '-device': {
        const driver = splitOpts(value)[0]!;
        const allowed = DEVICE_KEYS[driver];
        if (!allowed) problems.push(`-device driver ${JSON.stringify(driver)}`);
        else keysOnly(option, value, driver, allowed);
        break;
      }
      case '-machine':
        keysOnly(option, value, splitOpts(value)[0]!, ['pflash0', 'pflash1', 'smm']);
        break;
      case '-vnc':
        if (splitOpts(value).length !== 1 || splitOpts(value)[0] !== `unix:${paths.vncSocket}`)
          problems.push(`-vnc ${JSON.stringify(value)}`);
        break;
      case '-global':
        if (value !== 'driver=cfi.pflash01,property=secure,value=on') problems.push(`-global ${value}`);
        break;
      case '-fsdev': {
        // The shared folder over 9p: exactly the config's folder, its mode, nothing added.
        const o = keysOnly(option, value, 'local', ['id', 'path', 'security_model', 'multidevs', 'readonly']);
        const m = new Map(o.pairs);
        if (!vm.sharedFolder || m.get('path') !== vm.sharedFolder.path)
          problems.push(`-fsdev path ${JSON.stringify(m.get('path'))} is not the config's shared folder`);
        if (m.get('readonly') !== (vm.sharedFolder?.readOnly ? 'on' : 'off'))
          problems.push(`-fsdev readonly ${JSON.stringify(m.get('readonly'))} is not the config's mode`);
        if (!vm.sharedFolder?.over9p) problems.push('-fsdev without the share asking for 9p');
        if (m.get('security_model') !== 'mapped-xattr')
          problems.push(`-fsdev security_model ${m.get('security_model')}`);
        break;
      }
      case '-tpmdev':
        if (value !== 'emulator,id=tpm0,chardev=tpm-chr') problems.push(`-tpmdev ${value}`);
        break;
      case '-mon':
        if (value !== 'chardev=qmp,mode=control') problems.push(`-mon ${value}`);
        break;
      case '-serial':
        if (value !== 'chardev:serial0') problems.push(`-serial ${value}`);
        break;
      case '-blockdev':
      case '-netdev': {
        let j: Record<string, unknown>;
        try {
          j = JSON.parse(value) as Record<string, unknown>;
        } catch {
          problems.push(`${option} is not JSON: ${value}`);
          break;
        }
        // A shared folder: smbd with the VM's own smb.conf, on a user-mode netdev only; never smb=.
        if ('smb' in j) problems.push(`-netdev smb ${JSON.stringify(j.smb)}: QEMU's smb= is never used`);
        if ('guestfwd' in j) {
          // Split as libslirp splits it: exactly smbd with the VM's own runtime folder and config,
          // however hostile that folder's name.
          const rules = j.guestfwd as { str?: unknown }[];
          const str = Array.isArray(rules) && rules.length === 1 ? rules[0]?.str : undefined;
          const prefix = `tcp:10.0.2.4:445-cmd:`;
          const words = (() => {
            try {
              return typeof str === 'string' && str.startsWith(prefix)
                ? shellWords(str.slice(prefix.length))
                : [];
            } catch {
              return []; // unbalanced quotes: not the command Hangar writes
            }
          })();
          const dir = join(paths.runDir, 'smb');
          if (
            j.type !== 'user' ||
            !vm.sharedFolder ||
            JSON.stringify(words) !== JSON.stringify([SMBD, '-l', dir, '-s', join(dir, 'smb.conf')])
          )
            problems.push(`-netdev guestfwd ${JSON.stringify(j.guestfwd)} is not the shared folder's smbd`);
        }
        if (typeof j.filename === 'string' && !userPaths.has(j.filename))
          problems.push(`-blockdev filename ${JSON.stringify(j.filename)} is not a path of the config`);
        if (option === '-netdev' && j.type === 'stream') {
          // A lab NIC: a listening socket <runDir>/<nic id>.sock, nothing else.
          const addr = j.addr as { type?: unknown; path?: unknown };
          const ok = vm.nics.some(
            (n) => n.mode === 'lab' && addr.path === `${paths.runDir}/nic-${n.id}.sock`,
          );
          if (addr.type !== 'unix' || j.server !== true || !ok) problems.push(`-netdev stream ${value}`);
        }
        break;
      }
      case '-cpu':
      case '-smp':
      case '-m':
      case '-accel':
        if (splitOpts(value).length !== 1) problems.push(`${option} ${JSON.stringify(value)} has a comma`);
        break;
    }
  }
  return problems;
}

describe('QEMU command line fuzzing', () => {
  it('lets no accepted config add an option or a key to one', () => {
    let built = 0;
    let refused = 0;
    let rejectedBySchema = 0;
    const injections: string[] = [];
    fc.assert(
      fc.property(configArb, pathsArb, (raw, paths) => {
        const parsed = CheckedVmConfig.safeParse(raw);
        if (!parsed.success) {
          rejectedBySchema++;
          if (process.env.HANGAR_FUZZ_DEBUG)
            console.log(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
          return;
        }
        let argv: string[];
        try {
          argv = buildArgv(parsed.data, HOST, paths);
        } catch (err) {
          // Refusing is fine (too many SATA devices, no firmware), as long as it is said clearly.
          if (!(err instanceof HangarError) || err.code === 'INTERNAL')
            injections.push(`crash: ${String(err)}`);
          refused++;
          return;
        }
        built++;
        for (const p of checkArgv(parsed.data, paths, argv)) injections.push(p);
      }),
      { numRuns: ARGV_RUNS, seed: SEED },
    );
    console.log(
      `fuzz: ${built.toLocaleString('en')} command lines built from hostile configs ` +
        `(${refused} refused with a clear error, ${rejectedBySchema} rejected by the schema), ` +
        `${injections.length} injections`,
    );
    expect(injections.slice(0, 20)).toEqual([]);
    expect(built).toBeGreaterThan(ARGV_RUNS / 2);
  });

  it('detects an injection when there is one (the checker is not blind)', () => {
    const paths = fc.sample(pathsArb, { numRuns: 1, seed: 1 })[0]!;
    const vm = CheckedVmConfig.parse(fc.sample(configArb, { numRuns: 1, seed: 2 })[0]);
    const good = buildArgv(vm, HOST, paths);
    expect(checkArgv(vm, paths, good)).toEqual([]);
    const nameAt = good.indexOf('-name') + 1;
    const evil = [...good];
    evil[nameAt] = `guest=a,debug-threads=on`;
    expect(checkArgv({ ...vm, name: 'a,debug-threads=on' }, paths, evil).join()).toContain('debug-threads');
    expect(checkArgv(vm, paths, [...good, '-device', 'VGA,x-evil=1']).join()).toContain('x-evil');
    expect(checkArgv(vm, paths, [...good, '-drive', 'file=/etc/passwd']).join()).toContain('-drive');
    const chardev = good.indexOf('-chardev') + 1;
    const evil2 = [...good];
    evil2[chardev] = `${good[chardev]},logfile=/etc/x`;
    expect(checkArgv(vm, paths, evil2).length).toBeGreaterThan(0);
  });
});
