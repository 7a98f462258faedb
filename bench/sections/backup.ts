// Backups (issue 15) of a running VM, through the engine's own createBackup and restoreBackup
// (src/main/engine/backup): a live full backup against qemu-img converting the same disk
// compressed, an incremental after 64 MiB of writes against the data that changed (and its time
// against the full's), and a restore of the full point against qemu-img converting the same
// backup file to a new qcow2, and an instant restore (until the VM runs) against restoring whole then starting.
//
// The disk: a 4 GiB qcow2 holding 2 GiB of data written before the VM starts, each 64 KiB of it
// 32 KiB of random bytes and 32 KiB of repeated text, so zstd has work to do (about 2:1) and a
// pattern fill cannot flatter the compressed side. The incremental's 64 MiB are random bytes
// (incompressible), so its size says what was copied, not how well it compressed; they are written
// through QEMU while the guest runs (HMP qemu-io on the virtio-blk device's backend), so the dirty
// bitmap sees them.
//
// Rows are built per figure at the end (fullRows, incrementalRows, restoreRows, instantRows): a
// new figure is one more measurement in the round and one more function.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Engine } from '../../src/main/engine/engine';
import { createBackup, instantRestore, restoreBackup } from '../../src/main/engine/backup';
import { repositoryPath, vmFolder } from '../../src/main/engine/backup/repository';
import { diskPath } from '../../src/main/engine/qemu/argv';
import { deleteVm } from '../../src/main/engine/vms/manage';
import { now, reps, step, tempHome } from '../lib/env';
import { makeVm, openEngine, waitReady } from '../lib/hangar';
import { row, summarize, type Row } from '../lib/stats';

const MiB = 1024 * 1024;
const DISK_GiB = 4;
const DISK_SIZE = `${DISK_GiB}G`;
/** The data written into the disk before the VM starts, from offset 0. */
const DATA_MiB = 2048;
/** The writes the incremental holds, at 1 GiB (inside the data: overwritten, not grown). */
const CHANGED_MiB = 64;
const CHANGED_AT = '1G';

const exec = promisify(execFile);
const LONG = { maxBuffer: 16 * MiB, timeout: 1_800_000 };

/** Everything one section run measures, in ms and bytes; the rows are made from it at the end. */
interface Measured {
  fullH: number[];
  fullR: number[];
  incTime: number[];
  incSize: number[];
  restoreH: number[];
  restoreR: number[];
  /** Parts of Hangar's side, from its progress events: the full's hashing, the restore's checks. */
  fullHashing: number[];
  restoreChecks: number[];
  /** Until the restored VM runs: instantly (on the backup), and restored whole then started. */
  instantH: number[];
  instantR: number[];
}

export async function run(): Promise<Row[]> {
  const h = tempHome('backup');
  const engine = await openEngine(h);
  const scratch = join(h.home, 'bench-scratch');
  mkdirSync(scratch, { recursive: true });
  const vm = await makeVm(engine, 'bench-backup', 256, DISK_SIZE);
  const disk = vm.disks[0]!;
  if (disk.bus !== 'virtio')
    throw new Error(`the bench writes through virtio-blk; the disk is on ${disk.bus}`);
  const source = diskPath(vm, disk, engine.paths(vm.id).vmDir);
  step(`writing ${DATA_MiB} MiB of data into the ${DISK_SIZE} disk`);
  await fill(source, join(scratch, 'data.raw'));
  await engine.start(vm.id);
  await waitReady(engine.paths(vm.id).serialSocket);
  const repo = repositoryPath(engine);
  const m: Measured = {
    fullH: [],
    fullR: [],
    incTime: [],
    incSize: [],
    restoreH: [],
    restoreR: [],
    fullHashing: [],
    restoreChecks: [],
    instantH: [],
    instantR: [],
  };
  const n = reps(5, 2);
  for (let i = 0; i < n; i++) {
    // Sides alternate who goes first, so a slow drift of the machine hits both.
    const hangarFirst = i % 2 === 0;
    step(`round ${i + 1}/${n}: full backup`);
    const rawFull = join(scratch, 'raw-full.qcow2');
    let fullId = '';
    let fullFile = '';
    const viaHangar = async () => {
      await settle();
      const hashing = firstProgress(engine, vm.id, 'backup', (s) => s === 'hashing');
      const t0 = now();
      const b = await createBackup(engine, vm.id, { full: true });
      const t1 = now();
      m.fullH.push(t1 - t0);
      const at = hashing();
      if (at !== null) m.fullHashing.push(t1 - at);
      if (b.kind !== 'full' || !b.live) throw new Error(`expected a live full backup, got ${b.kind}`);
      fullId = b.id;
      fullFile = join(b.dir, `${disk.id}.qcow2`);
    };
    const viaRaw = async () => {
      await settle();
      const t0 = now();
      // -U: the running QEMU holds the image's write lock; a script reading it must share it.
      await exec(
        'qemu-img',
        [
          'convert',
          '-q',
          '-U',
          '-f',
          'qcow2',
          '-O',
          'qcow2',
          '-c',
          '-o',
          'compression_type=zstd',
          source,
          rawFull,
        ],
        LONG,
      );
      m.fullR.push(now() - t0);
      rmSync(rawFull, { force: true });
    };
    if (hangarFirst) await viaHangar().then(viaRaw);
    else await viaRaw().then(viaHangar);

    step(`round ${i + 1}/${n}: ${CHANGED_MiB} MiB written, incremental backup`);
    await writeWhileRunning(engine, vm.id, disk.id, join(scratch, 'changed.bin'));
    await settle();
    const t0 = now();
    const inc = await createBackup(engine, vm.id);
    m.incTime.push(now() - t0);
    if (inc.kind !== 'incremental' || inc.parent !== fullId)
      throw new Error(`expected an incremental on ${fullId}, got a ${inc.kind} (${inc.fullReason ?? ''})`);
    m.incSize.push(inc.size);

    step(`round ${i + 1}/${n}: restore of the full point`);
    const rawRestored = join(scratch, 'raw-restored.qcow2');
    const restoreHangar = async () => {
      await settle();
      const copying = firstProgress(engine, vm.id, 'restore', (s) => s.startsWith('restoring'));
      const t1 = now();
      const made = await restoreBackup(engine, fullId, `bench-restored-${i}`);
      m.restoreH.push(now() - t1);
      const at = copying();
      if (at !== null) m.restoreChecks.push(at - t1);
      await deleteVm(engine, made.id);
    };
    const restoreRaw = async () => {
      await settle();
      const t1 = now();
      await exec('qemu-img', ['convert', '-q', '-f', 'qcow2', '-O', 'qcow2', fullFile, rawRestored], LONG);
      m.restoreR.push(now() - t1);
      rmSync(rawRestored, { force: true });
    };
    if (hangarFirst) await restoreHangar().then(restoreRaw);
    else await restoreRaw().then(restoreHangar);

    step(`round ${i + 1}/${n}: instant restore against restore then start`);
    const runningInstantly = async () => {
      await settle();
      const t1 = now();
      const made = await instantRestore(engine, fullId, `bench-instant-${i}`);
      m.instantH.push(now() - t1);
      // Stopped with its data still streaming in: the next start would go on, but it is deleted.
      await engine.stop(made.id, { force: true });
      await deleteVm(engine, made.id);
    };
    const runningWhole = async () => {
      await settle();
      const t1 = now();
      const made = await restoreBackup(engine, fullId, `bench-whole-${i}`);
      await engine.start(made.id);
      m.instantR.push(now() - t1);
      await engine.stop(made.id, { force: true });
      await deleteVm(engine, made.id);
    };
    if (hangarFirst) await runningInstantly().then(runningWhole);
    else await runningWhole().then(runningInstantly);

    // The next round starts a new chain; this one's points only take space. (The old chain's
    // bitmap in QEMU is removed by the next full, as stale.)
    rmSync(vmFolder(repo, vm.id), { recursive: true, force: true });
  }
  return [...fullRows(m), ...incrementalRows(m), ...restoreRows(m), ...instantRows(m)];
}

/**
 * When the engine first reports progress of `operation` on `id` with a matching step, from now
 * on; the returned function stops listening and says when (null if it never did).
 */
function firstProgress(
  engine: Engine,
  id: string,
  operation: string,
  match: (step: string) => boolean,
): () => number | null {
  let at: number | null = null;
  const on = (p: { id: string; operation: string; step: string }) => {
    if (at === null && p.id === id && p.operation === operation && match(p.step)) at = now();
  };
  engine.on('progress', on);
  return () => {
    engine.off('progress', on);
    return at;
  };
}

/** The median of some ms as seconds for a note, or '?' when none were seen. */
const secs = (ms: number[]) => (ms.length ? `${(summarize(ms).median / 1000).toFixed(1)} s` : '?');

/** MiB/s of the disk's data from a time in ms. */
const rate = (ms: number[]) => ms.map((t) => DATA_MiB / (t / 1000));

function fullRows(m: Measured): Row[] {
  return [
    row({
      section: 'backup',
      figure: `full backup of a running VM, ${DISK_GiB} GiB disk holding ${DATA_MiB / 1024} GiB of data (higher is better)`,
      unit: 'MiB/s',
      hangar: rate(m.fullH),
      baseline: rate(m.fullR),
      baselineLabel: 'qemu-img convert -U -c -o compression_type=zstd of the same disk',
      paired: true,
      target: '≥ 0.9',
      note:
        `live (blockdev-backup into a zstd-compressed qcow2); Hangar's time includes ` +
        `hashing the point's files (median ${secs(m.fullHashing)}); ` +
        'MiB/s = data in the disk ÷ time',
    }),
  ];
}

function incrementalRows(m: Measured): Row[] {
  const changed = m.incSize.map(() => CHANGED_MiB);
  return [
    row({
      section: 'backup',
      figure: `incremental after ${CHANGED_MiB} MiB of random writes, size against the data changed`,
      unit: 'MiB',
      hangar: m.incSize.map((b) => b / MiB),
      baseline: changed,
      baselineLabel: `the ${CHANGED_MiB} MiB written`,
      paired: true,
      target: '≤ 1.25',
      note: "the point's own files (disk image and vm.json copy)",
    }),
    row({
      section: 'backup',
      figure: `incremental after ${CHANGED_MiB} MiB of writes, time against the full backup's`,
      unit: 'ms',
      hangar: m.incTime,
      baseline: m.fullH,
      baselineLabel: 'the full backup of the same round',
      paired: true,
      target: 'well below 1 (no number in the issue)',
      note: 'the test guest has no agent, so neither freezes its filesystems',
    }),
  ];
}

function restoreRows(m: Measured): Row[] {
  return [
    row({
      section: 'backup',
      figure: `restore of the full point to a new VM, ${DATA_MiB / 1024} GiB of data (higher is better)`,
      unit: 'MiB/s',
      hangar: rate(m.restoreH),
      baseline: rate(m.restoreR),
      baselineLabel: 'qemu-img convert of the same backup file to a new qcow2',
      paired: true,
      note:
        `restoreBackup: the chain's hashes and headers checked first (median ${secs(m.restoreChecks)}), ` +
        'then the same convert',
    }),
  ];
}

function instantRows(m: Measured): Row[] {
  return [
    row({
      section: 'backup',
      figure: `instant restore of the full point, time until the new VM runs (${DATA_MiB / 1024} GiB of data)`,
      unit: 'ms',
      hangar: m.instantH,
      baseline: m.instantR,
      baselineLabel: 'restoreBackup of the same point, then start',
      paired: true,
      target: 'well below 1 (no number in the issue)',
      note:
        "both check the chain's hashes and headers first; instant then makes overlays on the backup and starts, " +
        'the data streaming in afterwards (block-stream); QEMU running, not the guest booted',
    }),
  ];
}

/**
 * The data of the disk, written offline before the VM starts: a raw file of DATA_MiB, each
 * 64 KiB of it 32 KiB of random bytes and 32 KiB of repeated text, converted into the qcow2
 * in place (-n). The raw file is removed again.
 */
async function fill(qcow2: string, rawFile: string): Promise<void> {
  const text = Buffer.alloc(32 * 1024);
  const line = Buffer.from('hangar bench: the quick brown fox jumps over the lazy dog 0123456789\n');
  for (let p = 0; p < text.length; p += line.length) line.copy(text, p);
  const fd = openSync(rawFile, 'w');
  try {
    const chunk = Buffer.alloc(MiB);
    for (let mib = 0; mib < DATA_MiB; mib++) {
      for (let p = 0; p < MiB; p += 64 * 1024) {
        randomBytes(32 * 1024).copy(chunk, p);
        text.copy(chunk, p + 32 * 1024);
      }
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  try {
    await exec('qemu-img', ['convert', '-q', '-n', '-f', 'raw', '-O', 'qcow2', rawFile, qcow2], LONG);
  } finally {
    rmSync(rawFile, { force: true });
  }
}

/**
 * CHANGED_MiB of fresh random bytes written at CHANGED_AT through the running QEMU, so the chain's
 * dirty bitmap records them: HMP qemu-io on the guest device's own block backend (-d with the
 * virtio-blk device's backend, `<disk id>-dev/virtio-backend`; a new backend on the disk's node
 * would need the write permission the device does not share).
 */
async function writeWhileRunning(engine: Engine, id: string, diskId: string, file: string): Promise<void> {
  writeFileSync(file, randomBytes(CHANGED_MiB * MiB));
  const out = await engine.qmp(id).execute<string>('human-monitor-command', {
    'command-line': `qemu-io -d /machine/peripheral/${diskId}-dev/virtio-backend "write -q -s ${file} ${CHANGED_AT} ${CHANGED_MiB}M"`,
  });
  rmSync(file, { force: true });
  if (out.trim()) throw new Error(`qemu-io in QEMU: ${out.trim()}`);
}

/** Unmeasured: earlier rounds' dirty pages written back, so no side pays for the other's writes. */
async function settle(): Promise<void> {
  await exec('sync', []);
}
