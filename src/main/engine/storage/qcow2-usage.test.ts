import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshotUsage } from './qcow2-usage';

const dir = mkdtempSync(join(tmpdir(), 'hangar-qcow2-usage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const img = (...args: string[]) => execFileSync('qemu-img', args, { stdio: 'pipe' });
const io = (file: string, ...commands: string[]) => {
  const out = execFileSync('qemu-io', ['-f', 'qcow2', ...commands.flatMap((c) => ['-c', c]), file]);
  // qemu-io reports a failed command on stdout and still exits 0.
  if (/error|failed|invalid/i.test(out.toString())) throw new Error(`qemu-io: ${out.toString()}`);
};
const KiB = 1024;
const MiB = 1024 * KiB;

// The oracle: host clusters in use according to QEMU's own refcounts (16-bit, the default). What
// `qemu-img snapshot -d` frees is then the drop in that count, independent of the code under test.
function usedBytes(file: string): number {
  const data = readFileSync(file);
  const cs = 2 ** data.readUInt32BE(20);
  const table = Number(data.readBigUInt64BE(48));
  const version = data.readUInt32BE(4);
  expect(version === 2 || data.readUInt32BE(96) === 4).toBe(true);
  let used = 0;
  for (let at = table; at < table + data.readUInt32BE(56) * cs; at += 8) {
    const block = Number(data.readBigUInt64BE(at) & ~0x1ffn);
    for (let e = block; block && e < block + cs; e += 2) if (data.readUInt16BE(e)) used += cs;
  }
  return used;
}

function freedByDeleting(file: string, name: string): number {
  const copy = join(dir, 'oracle.qcow2');
  copyFileSync(file, copy);
  img('snapshot', '-d', name, copy);
  // Deleting the last snapshot also frees the (one-cluster) snapshot table, which no snapshot owns.
  const table = readFileSync(file).readUInt32BE(60) === 1 ? 2 ** readFileSync(file).readUInt32BE(20) : 0;
  return usedBytes(file) - usedBytes(copy) - table;
}

async function expectOracle(file: string): Promise<void> {
  const usage = await snapshotUsage(file);
  expect(usage.length).toBeGreaterThan(0);
  for (const s of usage) expect([s.name, s.uniqueBytes]).toEqual([s.name, freedByDeleting(file, s.name)]);
}

// A small deterministic generator (mulberry32), so a failing case can be replayed.
function random(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

describe('snapshotUsage', () => {
  it('counts what only one snapshot holds: its overwritten data, the L2 copy and its L1 table', async () => {
    const file = join(dir, 'plain.qcow2');
    img('create', '-f', 'qcow2', file, '64M');
    io(file, 'write -P 0x11 0 4M');
    img('snapshot', '-c', 's1', file);
    io(file, 'write -P 0x22 0 1M'); // copies the L2 table and 16 data clusters away from s1
    img('snapshot', '-c', 's2', file);
    io(file, 'write -P 0x33 8M 2M'); // new clusters only; s2 keeps just its L2 copy and L1
    // 64 KiB clusters: s1 = 16 data clusters + the original L2 table + its L1 table; s2 = L2 + L1.
    // Counting shared clusters would give s1 4 MiB + and s2 4 MiB +.
    expect(await snapshotUsage(file)).toEqual([
      { id: '1', name: 's1', uniqueBytes: 1 * MiB + 128 * KiB },
      { id: '2', name: 's2', uniqueBytes: 128 * KiB },
    ]);
    await expectOracle(file);
  });

  it('returns [] for an image without snapshots', async () => {
    const file = join(dir, 'none.qcow2');
    img('create', '-f', 'qcow2', file, '16M');
    io(file, 'write -P 0x11 0 1M');
    expect(await snapshotUsage(file)).toEqual([]);
  });

  // What deleting each snapshot frees, by QEMU's refcounts, for random histories in several layouts:
  // small clusters (several L2 tables), v2 headers, extended L2 entries, compressed clusters (which
  // share host clusters with each other), zeroed and discarded ranges.
  it.each([
    ['64k', ['cluster_size=65536']],
    ['4k v2', ['cluster_size=4096', 'compat=0.10']],
    ['512b', ['cluster_size=512']],
    ['extended L2', ['cluster_size=65536', 'extended_l2=on']],
  ])('agrees with the space qemu-img frees (%s)', async (label, options) => {
    const file = join(dir, `random-${label.replace(/ /g, '-')}.qcow2`);
    img('create', '-f', 'qcow2', '-o', options.join(','), file, '32M');
    const cs = 2 ** readFileSync(file).readUInt32BE(20);
    const next = random(label.length);
    for (let snap = 1; snap <= 4; snap++) {
      const commands: string[] = [];
      for (let w = 0; w < 6; w++) {
        const at = next(31 * 4) * 256 * KiB; // the writes stay inside the 32 MiB disk
        const length = (1 + next(8)) * 64 * KiB;
        const kind = next(6);
        if (kind === 0) commands.push(`write -z ${at} ${length}`);
        else if (kind === 1) commands.push(`discard ${at} ${length}`);
        else if (kind === 2)
          // Compressed writes need unallocated clusters.
          commands.push(`discard ${at} ${cs * 4}`, `write -c -P ${next(256)} ${at} ${cs * 4}`);
        else commands.push(`write -P ${next(256)} ${at + next(64 * KiB)} ${length}`);
      }
      io(file, ...commands);
      img('snapshot', '-c', `s${snap}`, file);
    }
    io(file, 'write -P 0x55 0 8M');
    await expectOracle(file);
  });

  it('counts compressed clusters by the host clusters they touch (qemu-img convert -c)', async () => {
    // Half-random clusters compress to ~33 KiB, so compressed data straddles host clusters and most
    // host clusters hold parts of two or three guest clusters.
    const raw = join(dir, 'half.raw');
    const next = random(7);
    const data = Buffer.alloc(8 * MiB);
    for (let at = 0; at < data.length; at += 64 * KiB)
      for (let i = 0; i < 32 * KiB; i++) data[at + i] = next(256);
    writeFileSync(raw, data);
    const file = join(dir, 'compressed.qcow2');
    img('convert', '-c', '-f', 'raw', '-O', 'qcow2', raw, file);
    img('snapshot', '-c', 's1', file);
    io(file, 'write -P 0x22 0 1M', 'write -P 0x22 3M 1M', 'write -P 0x22 5M 1M');
    // Three runs of 16 guest clusters, ~8 host clusters each less those shared at the run edges,
    // plus the L2 table and the L1 table. Counting only the host cluster where compressed data
    // starts would be off at the edges, which the exact comparison with QEMU's refcounts catches.
    const [s1] = await snapshotUsage(file);
    expect(s1?.uniqueBytes).toBeGreaterThanOrEqual(20 * 64 * KiB);
    expect(s1?.uniqueBytes).toBeLessThanOrEqual(26 * 64 * KiB);
    await expectOracle(file);
  });

  // VM state (savevm) is not tested: making it needs a running QEMU. It is stored as data clusters
  // past the virtual disk end, reached through the snapshot's L1 table, which is walked in full.

  it('refuses what is not a qcow2 image it can read, with a clear Error', async () => {
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'hello, not an image\n');
    await expect(snapshotUsage(text)).rejects.toThrow(/not a qcow2 image/);
    writeFileSync(join(dir, 'empty'), '');
    await expect(snapshotUsage(join(dir, 'empty'))).rejects.toThrow(/not a qcow2 image/);
    img('create', '-f', 'raw', join(dir, 'disk.raw'), '1M');
    await expect(snapshotUsage(join(dir, 'disk.raw'))).rejects.toThrow(/not a qcow2 image/);

    const good = join(dir, 'plain.qcow2');
    const header = readFileSync(good).subarray(0, 64 * KiB);
    const patched = (edit: (b: Buffer) => void): string => {
      const file = join(dir, 'patched.qcow2');
      const copy = Buffer.from(readFileSync(good));
      edit(copy);
      writeFileSync(file, copy);
      return file;
    };
    expect(header.readUInt32BE(60)).toBe(2);
    const cases: [(b: Buffer) => void, RegExp][] = [
      [(b) => b.writeUInt32BE(0xffffffff, 60), /claims 4294967295 snapshots/],
      [(b) => b.writeBigUInt64BE(2n ** 60n, 64), /snapshot 0 at .* beyond the end of the file/],
      [(b) => b.writeUInt32BE(4, 4), /unsupported qcow2 version 4/],
      [(b) => b.writeUInt32BE(40, 20), /cluster_bits 40/],
      [(b) => b.writeBigUInt64BE(4n, 72), /external data file/],
      [(b) => b.writeBigUInt64BE(1n << 40n, 72), /unknown incompatible features/],
      [(b) => b.writeBigUInt64BE(12345n, 40), /not cluster-aligned/],
      [(b) => b.writeUInt32BE(0xffffffff, 36), /too large/],
    ];
    for (const [edit, message] of cases) await expect(snapshotUsage(patched(edit))).rejects.toThrow(message);
  });

  it('never fails except with its own Error on corrupted or truncated images', async () => {
    // Small clusters and sparse writes: most of the file is metadata (L1, L2, snapshot tables).
    const source = join(dir, 'sparse.qcow2');
    img('create', '-f', 'qcow2', '-o', 'cluster_size=4096', source, '32M');
    io(source, ...Array.from({ length: 32 }, (_, i) => `write -P ${i} ${i * MiB} 4k`));
    img('snapshot', '-c', 's1', source);
    io(source, ...Array.from({ length: 16 }, (_, i) => `write -P ${i} ${i * 2 * MiB} 4k`));
    img('snapshot', '-c', 's2', source);
    const good = readFileSync(source);
    const file = join(dir, 'fuzzed.qcow2');
    const next = random(99);
    const outcomes = { ok: 0, refused: 0 };
    for (let round = 0; round < 300; round++) {
      const copy = Buffer.from(good);
      for (let n = 1 + next(8); n > 0; n--) copy[next(good.length)] = next(256);
      writeFileSync(file, round % 4 === 0 ? copy.subarray(0, next(good.length)) : copy);
      const outcome = await snapshotUsage(file).catch((e: unknown) => e);
      if (outcome instanceof Error) expect(outcome.message).toMatch(/^qcow2 .*fuzzed\.qcow2: /);
      else expect(outcome).toBeInstanceOf(Array);
      outcomes[outcome instanceof Error ? 'refused' : 'ok']++;
    }
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});

describe('a snapshot with saved RAM', () => {
  // savevm writes the RAM into the VM-state area past the disk's end; loadvm (a revert) copies the
  // snapshot's tables back, so the live tables point at that area again until the next snapshot.
  // The RAM is still the snapshot's own: the live disk's VM-state area is never its data.
  it('holds its RAM on its own, before and after a revert', () => {
    const file = join(dir, 'vmstate.qcow2');
    img('create', '-q', '-f', 'qcow2', file, '64M');
    const monitor = (commands: string) =>
      execFileSync(
        'qemu-system-x86_64',
        ['-machine', 'q35', '-accel', 'tcg', '-m', '64', '-display', 'none', '-nodefaults', '-S'].concat([
          '-drive',
          `file=${file},if=virtio,format=qcow2`,
          '-monitor',
          'stdio',
        ]),
        { input: `${commands}\nquit\n`, stdio: ['pipe', 'ignore', 'ignore'], timeout: 60_000 },
      );
    monitor('savevm with-ram');
    const ram = () => {
      const info = JSON.parse(img('info', '--output=json', file).toString()) as {
        snapshots: { 'vm-state-size': number }[];
      };
      return info.snapshots[0]!['vm-state-size'];
    };
    expect(ram()).toBeGreaterThan(64 * KiB);
    return (async () => {
      const [before] = await snapshotUsage(file);
      expect(before!.uniqueBytes).toBeGreaterThanOrEqual(ram());
      monitor('loadvm with-ram');
      const [after] = await snapshotUsage(file);
      expect(after!.uniqueBytes).toBeGreaterThanOrEqual(ram());
      expect(after!.uniqueBytes).toBeLessThan(ram() + 4 * 64 * KiB);
    })();
  });
});
