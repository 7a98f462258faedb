// The space each internal snapshot of a qcow2 image holds on its own: the bytes that deleting just
// that snapshot would give back (its saved RAM counts as its own even right after a revert, when
// QEMU's live tables still point at it until the next snapshot). qemu-img reports a snapshot's VM-state size but never its share of
// the disk, so this walks the tables itself (QEMU's docs/interop/qcow2.rst). Host clusters are
// counted by owner: the active L1 table and each snapshot's L1 table. A snapshot's unique bytes are
// the clusters no other owner references: its data clusters, its VM state (stored as data clusters
// past the virtual disk end, reached through the same L1 table, so walking all l1_size entries
// counts it), the L2 tables only it uses, and its own L1 table's clusters. Compressed clusters are
// counted as the whole host clusters their bytes touch, because that is what QEMU refcounts and
// frees. The file is untrusted and may be written by a running QEMU as we read it (the figures are
// then an estimate): every offset is bounds-checked, every size capped, and anything inconsistent
// is an Error that says so, never a crash or an allocation sized by a header field.
import { open, type FileHandle } from 'node:fs/promises';

export interface SnapshotUsage {
  id: string;
  name: string;
  uniqueBytes: number;
}

const MAX_SNAPSHOTS = 65536; // QEMU's own limit
const MAX_L1_ENTRIES = 0x2000000 / 8; // QEMU's 32 MiB L1 table limit
// Table entries walked in all, checked as each table is read: a hostile file of shared tables, or
// a huge disk (8M mapped clusters is 512 GiB at 64 KiB), stops here before memory does (the
// count per cluster is a Map, which holds at most 2^24 keys).
const MAX_WORK = 2 ** 23;
const L1_CHUNK = 65536; // L1 entries per read
const OWNERS = 2 ** 17; // refs values pack (owners referencing the cluster) * OWNERS + last owner
const DIRTY = 1n,
  CORRUPT = 2n,
  EXTERNAL_DATA = 4n,
  COMPRESSION_TYPE = 8n,
  EXTENDED_L2 = 16n;
const KNOWN_FEATURES = DIRTY | CORRUPT | EXTERNAL_DATA | COMPRESSION_TYPE | EXTENDED_L2;

interface Owner {
  l1Offset: number;
  l1Size: number;
  /** L1 entries whose L2 tables count: all of a snapshot's; the live disk's up to its end. */
  walk: number;
  tables: number[]; // distinct L2 table offsets
}

class Reader {
  constructor(
    private fh: FileHandle,
    private path: string,
    public size: number,
  ) {}

  fail(message: string): Error {
    return new Error(`qcow2 ${this.path}: ${message}`);
  }

  /** Throws unless [0, end) is in the file; re-reads the size first, as QEMU may have grown it. */
  async within(end: number, what: string): Promise<void> {
    if (end > this.size) this.size = (await this.fh.stat()).size;
    if (!(end <= this.size))
      throw this.fail(`${what} lies beyond the end of the file (corrupt, or torn read)`);
  }

  /** Exactly `length` bytes at `offset`; callers cap `length` so no header field sizes a buffer. */
  async read(offset: number, length: number, what: string): Promise<Buffer> {
    await this.within(offset + length, `${what} at ${offset}`);
    const buf = Buffer.alloc(length);
    for (let done = 0; done < length;) {
      const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw this.fail(`${what} at ${offset} was cut short (file shrank while read)`);
      done += bytesRead;
    }
    return buf;
  }
}

/**
 * Reads the qcow2 at `path` read-only; throws an Error with a clear message if it is not a qcow2 v2/v3
 * image it can read.
 */
export async function snapshotUsage(path: string): Promise<SnapshotUsage[]> {
  const fh = await open(path, 'r');
  try {
    return await scan(new Reader(fh, path, (await fh.stat()).size));
  } finally {
    await fh.close();
  }
}

async function scan(r: Reader): Promise<SnapshotUsage[]> {
  const head = await r.read(0, Math.min(r.size, 104), 'header');
  if (head.length < 72 || head.readUInt32BE(0) !== 0x514649fb) throw r.fail('not a qcow2 image');
  const version = head.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw r.fail(`unsupported qcow2 version ${version}`);
  if (version === 3 && head.length < 104) throw r.fail('truncated v3 header');
  const features = version === 3 ? head.readBigUInt64BE(72) : 0n;
  if (features & ~KNOWN_FEATURES) throw r.fail(`unknown incompatible features 0x${features.toString(16)}`);
  if (features & EXTERNAL_DATA) throw r.fail('images with an external data file are not supported');
  const bits = head.readUInt32BE(20);
  if (bits < 9 || bits > 21) throw r.fail(`cluster_bits ${bits} is outside 9..21`);
  const cs = 2 ** bits;
  const stride = features & EXTENDED_L2 ? 16 : 8; // extended entries add a subcluster bitmap we ignore
  const x = 62 - (bits - 8); // compressed descriptor: offset in bits 0..x-1, extra sectors in x..61
  const nbSnapshots = head.readUInt32BE(60);
  if (nbSnapshots > MAX_SNAPSHOTS) throw r.fail(`claims ${nbSnapshots} snapshots (limit ${MAX_SNAPSHOTS})`);

  // The snapshot table: variable-length entries, read one by one so only the id and name are held.
  // The live disk's entries past its virtual size address the VM-state area, where savevm writes
  // a snapshot's RAM before the snapshot takes it over. QEMU then drops it from the live tables,
  // but only in its metadata cache until the next flush (and a revert copies it back until the
  // next snapshot): it is never the live disk's data, so it does not count as shared.
  const activeL1 = head.readUInt32BE(36);
  const perL1Entry = cs * (cs / stride);
  const diskL1 = Math.ceil(Number(head.readBigUInt64BE(24)) / perL1Entry);
  const owners: Owner[] = [
    {
      l1Offset: Number(head.readBigUInt64BE(40)),
      l1Size: activeL1,
      walk: Math.min(activeL1, diskL1),
      tables: [],
    },
  ];
  const snapshots: SnapshotUsage[] = [];
  let pos = Number(head.readBigUInt64BE(64));
  for (let i = 0; i < nbSnapshots; i++) {
    const e = await r.read(pos, 40, `snapshot ${i}`);
    const [idLen, nameLen, extra] = [e.readUInt16BE(12), e.readUInt16BE(14), e.readUInt32BE(36)];
    const names = await r.read(pos + 40 + extra, idLen + nameLen, `snapshot ${i} name`);
    const id = names.toString('utf8', 0, idLen);
    snapshots.push({ id, name: names.toString('utf8', idLen), uniqueBytes: 0 });
    const l1Size = e.readUInt32BE(8);
    owners.push({ l1Offset: Number(e.readBigUInt64BE(0)), l1Size, walk: l1Size, tables: [] });
    pos += Math.ceil((40 + extra + idLen + nameLen) / 8) * 8;
  }

  // L2 table offset -> host cluster numbers its entries use; L2 tables are shared until copied.
  const l2 = new Map<number, number[]>();
  let work = 0;
  for (const [i, owner] of owners.entries()) {
    const { l1Offset, l1Size, walk } = owner;
    if (l1Size > MAX_L1_ENTRIES) throw r.fail(`L1 table of ${l1Size} entries is too large`);
    if (l1Size && l1Offset % cs) throw r.fail(`L1 table at ${l1Offset} is not cluster-aligned`);
    const where = i ? `snapshot ${snapshots[i - 1]?.id} L1 table` : 'active L1 table';
    const seen = new Set<number>();
    for (let first = 0; first < walk; first += L1_CHUNK) {
      const n = Math.min(L1_CHUNK, walk - first);
      const buf = await r.read(l1Offset + first * 8, n * 8, where);
      for (let at = 0; at < n * 8; at += 8) {
        // Bits 9-55 hold the L2 table offset; Numbers are exact for any offset inside a real file.
        const off = (buf.readUInt32BE(at) & 0xffffff) * 2 ** 32 + ((buf.readUInt32BE(at + 4) & ~0x1ff) >>> 0);
        if (!off || seen.has(off)) continue;
        if (off % cs) throw r.fail(`${where} points at unaligned L2 table ${off}`);
        seen.add(off);
        if (!l2.has(off)) l2.set(off, await readL2(off));
        work += l2.get(off)?.length ?? 0;
        if (work > MAX_WORK) throw r.fail('too many table entries to scan (a very large or hostile image)');
      }
    }
    owner.tables = [...seen];
    work += l1Size;
    if (work > MAX_WORK) throw r.fail('too many table entries to scan (corrupt or hostile image)');
  }

  async function readL2(offset: number): Promise<number[]> {
    const table = await r.read(offset, cs, 'L2 table');
    const used: number[] = [];
    for (let at = 0; at < cs; at += stride) {
      const hi = table.readUInt32BE(at);
      const lo = table.readUInt32BE(at + 4);
      let start: number, end: number;
      if (hi & 0x40000000) {
        start = (hi & (2 ** (x - 32) - 1)) * 2 ** 32 + lo;
        const sectors = ((hi & 0x3fffffff) >>> (x - 32)) + 1; // the offset's sector, plus extra ones
        end = (Math.floor(start / 512) + sectors) * 512;
      } else {
        // Standard cluster; the zero flag (bit 0) does not matter: an offset means allocated space.
        start = (hi & 0xffffff) * 2 ** 32 + ((lo & ~0x1ff) >>> 0);
        if (!start) continue;
        if (start % cs) throw r.fail(`L2 table at ${offset} points at unaligned cluster ${start}`);
        end = start + cs;
      }
      if (end > r.size) await r.within(end, `cluster at ${start}`);
      for (let c = Math.floor(start / cs); c * cs < end; c++) used.push(c);
    }
    return used;
  }

  // Every host cluster an owner references, its own L1 table's clusters included.
  function each(owner: Owner, visit: (cluster: number) => void): void {
    const l1End = owner.l1Offset + owner.l1Size * 8;
    for (let c = owner.l1Offset / cs; c * cs < l1End; c++) visit(c);
    for (const table of owner.tables) {
      visit(table / cs);
      for (const c of l2.get(table) ?? []) visit(c);
    }
  }

  const refs = new Map<number, number>();
  for (const [i, owner] of owners.entries()) {
    each(owner, (c) => {
      const v = refs.get(c);
      if (v === undefined) refs.set(c, OWNERS + i);
      else if (v % OWNERS !== i) refs.set(c, (Math.floor(v / OWNERS) + 1) * OWNERS + i);
    });
  }
  for (const [i, snapshot] of snapshots.entries()) {
    each(owners[i + 1] as Owner, (c) => {
      const v = refs.get(c) ?? 0;
      if (Math.floor(v / OWNERS) !== 1) return;
      snapshot.uniqueBytes += cs;
      refs.set(c, 0); // counted; a second reference from this same snapshot must not count again
    });
  }
  return snapshots;
}
