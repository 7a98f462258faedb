// The image library against the real parts: qemu-img converting every format a user may bring
// (made here from the tiny guest's bootable image), VMs made from library images as linked clones
// and booted to the guest's ready marker, a local HTTP server standing in for the internet
// (verified, resumed, corrupted, missing and impossible downloads), and OVAs, good and hostile.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import { createDispatcher, type Dispatcher } from '../../src/main/api/dispatch';
import type { ImageEntry, ImageMeta, VerifyResult } from '../../src/shared/images';
import type { VmConfig } from '../../src/shared/vm';
import { qcow2Backing } from '../../src/main/engine/storage/qcow2-header';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { guest } from '../support/guest';
import { shell } from '../support/vms';
import { serveFiles, type FileServer } from '../support/file-server';
import { manifest, ovf, tarOf } from '../support/ova';

const t = tempHome('hangar-images-');
let engine: Engine;
let api: Dispatcher;
let server: FileServer;
const f = (name: string) => join(t.files, name);
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const qemuImg = (...args: string[]) => execFileSync('qemu-img', args, { stdio: ['ignore', 'pipe', 'pipe'] });
const images = async () => (await api.call('image.list', {})) as ImageEntry[];
const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: { code: string; message: string }) => err,
  );

async function bootToReady(vm: VmConfig): Promise<void> {
  await engine.start(vm.id);
  const s = await shell(engine, vm.id, 120_000);
  s.close();
  await engine.stop(vm.id, { force: true });
}

async function makeVm(name: string, image: string, extra: Record<string, unknown> = {}): Promise<VmConfig> {
  return (await api.call('vm.create', {
    name,
    image,
    cpus: 1,
    memoryMiB: 256,
    firmware: 'bios',
    network: null,
    ...extra,
  })) as VmConfig;
}

beforeAll(async () => {
  // The tiny guest's ISO is a hybrid image: as a raw disk it boots through GRUB too.
  copyFileSync(guest().iso, f('tiny.img'));
  engine = await openEngine(t);
  api = createDispatcher(engine);
  // A copy with another cluster size: the same disk, different bytes, for the download tests.
  qemuImg('convert', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=131072', f('tiny.img'), f('pub.qcow2'));
  copyFileSync(f('pub.qcow2'), f('corrupt.qcow2'));
  const fd = openSync(f('corrupt.qcow2'), 'r+');
  writeSync(fd, Buffer.from('garbage'), 0, 7, 1 << 20);
  closeSync(fd);
  // A published overlay: its digest is right, but it names a backing file QEMU would open.
  qemuImg('create', '-f', 'qcow2', '-F', 'raw', '-b', f('tiny.img'), f('overlay.qcow2'));
  const sums = `${sha256(f('pub.qcow2'))}  pub.qcow2\n${'0'.repeat(64)}  gone.qcow2\n${sha256(f('overlay.qcow2'))}  overlay.qcow2\n`;
  writeFileSync(f('SHA256SUMS'), sums);
  // A vendor's signing key, and the list signed with it: detached, clearsigned, and two forgeries.
  const gpgHome = f('gnupg');
  mkdirSync(gpgHome, { mode: 0o700 });
  const gpg = (...args: string[]) =>
    execFileSync(
      'gpg',
      ['--batch', '--homedir', gpgHome, '--pinentry-mode', 'loopback', '--passphrase', '', ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  gpg('--quick-gen-key', 'Test Vendor <vendor@example.test>', 'ed25519', 'sign', 'never');
  writeFileSync(join(t.home, 'vendor.asc'), gpg('--armor', '--export', 'vendor@example.test'));
  gpg('--armor', '--detach-sign', '--output', f('SHA256SUMS.sign'), f('SHA256SUMS'));
  gpg('--clearsign', '--output', f('SHA256SUMS.clear'), f('SHA256SUMS'));
  writeFileSync(f('other.txt'), 'something else\n');
  gpg('--armor', '--detach-sign', '--output', f('other.sign'), f('other.txt'));
  writeFileSync(
    f('SHA256SUMS.tampered'),
    readFileSync(f('SHA256SUMS.clear'), 'utf8').replace(sha256(f('pub.qcow2')), sha256(f('corrupt.qcow2'))),
  );
  server = await serveFiles({
    '/img/pub.qcow2': f('pub.qcow2'),
    '/img/overlay.qcow2': f('overlay.qcow2'),
    '/img/SHA256SUMS': f('SHA256SUMS'),
    '/img/SHA256SUMS.sign': f('SHA256SUMS.sign'),
    '/img/SHA256SUMS.clear': f('SHA256SUMS.clear'),
    '/img/SHA256SUMS.tampered': f('SHA256SUMS.tampered'),
    '/img/other.sign': f('other.sign'),
    '/bad/pub.qcow2': f('corrupt.qcow2'),
    '/bad/SHA256SUMS': f('SHA256SUMS'),
  });
  const entry = (id: string, url: string, sums: string, sig?: string | null) => ({
    id,
    name: `test ${id}`,
    kind: 'cloud',
    format: 'qcow2',
    url: `${server.url}${url}`,
    checksums: {
      url: `${server.url}${sums}`,
      ...(sig !== undefined
        ? { signed: true, signature: { url: sig ? `${server.url}${sig}` : null, keyFile: 'vendor.asc' } }
        : {}),
    },
  });
  writeFileSync(
    join(t.home, 'catalog.json'),
    JSON.stringify([
      entry('good', '/img/pub.qcow2', '/img/SHA256SUMS'),
      entry('flaky', '/drop/img/pub.qcow2', '/img/SHA256SUMS'),
      entry('corrupt', '/bad/pub.qcow2', '/bad/SHA256SUMS'),
      entry('missing', '/img/gone.qcow2', '/img/SHA256SUMS'),
      entry('huge', '/huge/pub.qcow2', '/img/SHA256SUMS'),
      entry('unlisted', '/img/pub.qcow2', '/img/nothere'),
      entry('overlay', '/img/overlay.qcow2', '/img/SHA256SUMS'),
      entry('signed', '/img/pub.qcow2', '/img/SHA256SUMS', '/img/SHA256SUMS.sign'),
      entry('clearsigned', '/img/pub.qcow2', '/img/SHA256SUMS.clear', null),
      entry('forged', '/img/pub.qcow2', '/img/SHA256SUMS', '/img/other.sign'),
      entry('tampered', '/img/corrupt.qcow2', '/img/SHA256SUMS.tampered', null),
    ]),
  );
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (engine) await closeEngine(engine, t);
}, 120_000);

describe('downloads from the catalog', () => {
  let pulled: ImageMeta;

  it('pulls an entry, verified against its published SHA256SUMS, and makes a booting VM from it', async () => {
    // The same bytes were added from a file first: the pull finds that image, and its record
    // gains the catalog entry and the verified digest (it keeps its name).
    const added = (await api.call('image.add', { path: f('pub.qcow2') })) as ImageMeta;
    expect(added).toMatchObject({
      name: 'pub.qcow2',
      catalogId: null,
      source: { kind: 'file', verified: null },
    });
    pulled = (await api.call('image.pull', { id: 'good' })) as ImageMeta;
    expect(pulled.id).toBe(sha256(f('pub.qcow2')));
    expect(pulled).toMatchObject({ name: 'pub.qcow2', format: 'qcow2', catalogId: 'good' });
    expect((await images()).map((i) => [i.name, i.catalogId])).toEqual([['pub.qcow2', 'good']]);
    expect(pulled.source.verified).toMatchObject({
      algorithm: 'sha256',
      digest: pulled.id,
      list: `${server.url}/img/SHA256SUMS`,
    });
    const file = join(t.home, 'images', pulled.id, 'image.qcow2');
    expect(statSync(file).mode & 0o777).toBe(0o444);
    const vm = await makeVm('from-catalog', 'good');
    // A linked clone: the VM's own disk is an overlay on the library file.
    expect(vm.disks[0]).toMatchObject({ owned: true, format: 'qcow2' });
    expect(qcow2Backing(join(engine.paths(vm.id).vmDir, 'disk0.qcow2'))).toBe(file);
    await bootToReady(vm);
  }, 240_000);

  it('resumes a transfer the server broke off half-way, with a Range request', async () => {
    const before = server.log.length;
    // Same bytes as "good": the library keeps one copy and answers with it.
    const m = (await api.call('image.pull', { id: 'flaky' })) as ImageMeta;
    expect(m.id).toBe(pulled.id);
    expect(m.catalogId).toBe('good');
    const tries = server.log.slice(before).filter((r) => r.path === '/drop/img/pub.qcow2');
    expect(tries.length).toBe(2);
    expect(tries[0]!.range).toBeNull();
    expect(tries[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(readdirSync(join(t.home, 'images', '.partial'))).toEqual([]);
  });

  it('runs one pull of a URL at a time: a second one at once is refused as busy', async () => {
    const [a, b] = await Promise.allSettled([
      api.call('image.pull', { id: 'good' }),
      api.call('image.pull', { id: 'good' }),
    ]);
    const outcomes = [a, b].map((r) =>
      r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code,
    );
    expect(outcomes.sort()).toEqual(['BUSY', 'ok']);
    expect(readdirSync(join(t.home, 'images', '.partial'))).toEqual([]);
  });

  it('fails closed on a digest mismatch, shows both digests and keeps nothing', async () => {
    const err = await failure(api.call('image.pull', { id: 'corrupt' }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain(sha256(f('pub.qcow2')));
    expect(err.message).toContain(sha256(f('corrupt.qcow2')));
    expect(readdirSync(join(t.home, 'images', '.partial'))).toEqual([]);
    expect((await images()).map((i) => i.name)).toEqual(['pub.qcow2']);
  });

  it('checks the vendor signature on the list where the catalog has the key, detached or clearsigned', async () => {
    const signed = (await api.call('image.pull', { id: 'signed' })) as ImageMeta;
    expect(signed.source.verified).toMatchObject({ algorithm: 'sha256', signed: true });
    const clear = (await api.call('image.pull', { id: 'clearsigned' })) as ImageMeta;
    expect(clear.source.verified?.signed).toBe(true);
    const forged = await failure(api.call('image.pull', { id: 'forged' }));
    expect(forged.message).toMatch(/does not verify with the catalog's key/);
    // A digest changed inside the signed text: the signature no longer holds, nothing is fetched.
    const before = server.log.length;
    const tampered = await failure(api.call('image.pull', { id: 'tampered' }));
    expect(tampered.message).toMatch(/does not verify with the catalog's key/);
    expect(server.log.slice(before).map((r) => r.path)).toEqual(['/img/SHA256SUMS.tampered']);
  });

  it('says what is wrong with a 404, a size no disk holds, and a file its list does not name', async () => {
    const missing = await failure(api.call('image.pull', { id: 'missing' }));
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
    expect(missing.message).toMatch(/404/);
    const huge = await failure(api.call('image.pull', { id: 'huge' }));
    expect(huge.code).toBe('IO_ERROR');
    expect(huge.message).toMatch(/1024 TiB|PiB|free/);
    const unlisted = await failure(api.call('image.pull', { id: 'unlisted' }));
    expect(unlisted.code).toBe('NOT_FOUND');
    const overlay = await failure(api.call('image.pull', { id: 'overlay' }));
    expect(overlay.code).toBe('UNSUPPORTED');
    expect(overlay.message).toMatch(/overlay on/);
    const unknown = await failure(api.call('image.pull', { id: 'no-such-entry' }));
    expect(unknown.message).toMatch(/No catalog entry "no-such-entry"/);
    expect(readdirSync(join(t.home, 'images', '.partial'))).toEqual([]);
    expect((await images()).length).toBe(1);
  });
});

describe('imports of every common format', () => {
  const made: Record<string, ImageMeta> = {};

  it('stores qcow2 and raw as they are, converts vmdk, vdi, vhdx and vpc to qcow2 and checks each copy', async () => {
    const formats: [string, string, string[]][] = [
      ['mono.vmdk', 'vmdk', []],
      ['split.vmdk', 'vmdk', ['-o', 'subformat=twoGbMaxExtentSparse']],
      ['stream.vmdk', 'vmdk', ['-o', 'subformat=streamOptimized']],
      ['disk.vdi', 'vdi', []],
      ['disk.vhdx', 'vhdx', []],
      ['disk.vhd', 'vpc', []],
      ['plain.qcow2', 'qcow2', []],
    ];
    for (const [name, fmt, opts] of formats)
      qemuImg('convert', '-f', 'raw', '-O', fmt, ...opts, f('tiny.img'), f(name));
    const firstFormat = new Map<string, string>();
    for (const [name, fmt] of formats) {
      made[name] = (await api.call('image.add', { path: f(name), name })) as ImageMeta;
      expect(made[name]!.format).toBe('qcow2');
      // Content-addressed: a conversion that yields the bytes of an earlier one is that image,
      // with the record of its first import.
      const id = made[name]!.id;
      expect(made[name]!.source.originalFormat).toBe(firstFormat.get(id) ?? fmt);
      if (!firstFormat.has(id)) firstFormat.set(id, fmt);
      // What the guest sees is the original disk, byte for byte.
      const file = join(t.home, 'images', made[name]!.id, 'image.qcow2');
      expect(() => qemuImg('compare', '-f', 'raw', '-F', 'qcow2', f('tiny.img'), file)).not.toThrow();
    }
    // The tiny guest's image is a hybrid ISO: by default it is stored as an ISO (for the CD
    // drive); --format raw stores it as a disk, as a USB stick image would be used.
    made.iso = (await api.call('image.add', { path: guest().iso, name: 'tiny-iso' })) as ImageMeta;
    expect(made.iso.format).toBe('iso');
    const iso = readFileSync(guest().iso);
    writeFileSync(f('tiny.raw'), Buffer.concat([iso, Buffer.alloc(1 << 20)]));
    made.raw = (await api.call('image.add', {
      path: f('tiny.raw'),
      name: 'raw',
      format: 'raw',
    })) as ImageMeta;
    expect(made.raw).toMatchObject({ format: 'raw', id: sha256(f('tiny.raw')) });
    const wrong = await failure(api.call('image.add', { path: f('disk.vdi'), format: 'raw' }));
    expect(wrong.message).toMatch(/is a vdi image, not raw/);
  }, 240_000);

  it('boots VMs made from a converted image, a raw image and an ISO in the library', async () => {
    await bootToReady(await makeVm('from-vhdx', made['disk.vhdx']!.id));
    await bootToReady(await makeVm('from-raw', 'raw'));
    const fromIso = await makeVm('from-iso', 'tiny-iso', { disk: { kind: 'new', size: '64M' } });
    expect(fromIso.cdroms[0]!.media).toBe(join(t.home, 'images', made.iso!.id, 'image.iso'));
    await bootToReady(fromIso);
  }, 600_000);

  it('never removes an image in use (the error names the VMs), and removes it once unused', async () => {
    const err = await failure(api.call('image.remove', { image: 'raw' }));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('from-raw');
    await api.call('vm.delete', { vm: 'from-raw' });
    await api.call('image.remove', { image: made.raw!.id.slice(0, 10) });
    expect(existsSync(join(t.home, 'images', made.raw!.id))).toBe(false);
    const unknown = await failure(api.call('image.remove', { image: 'raw' }));
    expect(unknown.code).toBe('NOT_FOUND');
  });

  it('verify names an image whose file changed', async () => {
    const file = join(t.home, 'images', made['disk.vdi']!.id, 'image.qcow2');
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from('x'), 0, 1, statSync(file).size - 1);
    closeSync(fd);
    const results = (await api.call('image.verify', {})) as VerifyResult[];
    const bad = results.filter((r) => !r.ok);
    expect(bad.map((r) => r.id)).toEqual([made['disk.vdi']!.id]);
    expect(bad[0]!.actual).toBe(sha256(file));
  });

  it('refuses images that name files outside their folder, and overlays', async () => {
    const before = (await images()).length;
    const descriptor = (extent: string) =>
      `# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 8 FLAT "${extent}" 0\n`;
    writeFileSync(f('shadow.vmdk'), descriptor('/etc/passwd'));
    writeFileSync(f('up.vmdk'), descriptor('../x.img'));
    symlinkSync('/etc/passwd', f('linked-flat.img'));
    writeFileSync(f('linked.vmdk'), descriptor('linked-flat.img'));
    // An extent line after 64 KiB of comments (QEMU reads 1 MiB of descriptor).
    writeFileSync(f('padded.vmdk'), descriptor('/etc/passwd').replace('RW 8', `${'#\n'.repeat(40_000)}RW 8`));
    // A size QEMU reads and a strict pattern would skip.
    writeFileSync(f('plus.vmdk'), descriptor('/etc/passwd').replace('RW 8', 'RW +8'));
    // A binary vmdk with capacity 0: QEMU follows its embedded descriptor's extents.
    const head = Buffer.alloc(512);
    head.write('KDMV', 0, 'latin1');
    head.writeUInt32LE(1, 4);
    head.writeBigUInt64LE(0n, 12);
    head.writeBigUInt64LE(1n, 28);
    head.writeBigUInt64LE(1n, 36);
    const embedded = Buffer.alloc(512);
    embedded.write(descriptor('/etc/passwd'), 0, 'latin1');
    writeFileSync(f('kdmv.vmdk'), Buffer.concat([head, embedded]));
    for (const name of ['shadow.vmdk', 'up.vmdk', 'linked.vmdk', 'padded.vmdk', 'plus.vmdk', 'kdmv.vmdk']) {
      const err = await failure(api.call('image.add', { path: f(name) }));
      expect(err.code, name).toBe('INVALID_INPUT');
      expect(err.message, name).toMatch(/outside its folder|not a regular file|cannot read/);
    }
    const overlay = await failure(api.call('image.add', { path: f('overlay.qcow2') }));
    expect(overlay.message).toMatch(/overlay on/);
    const own = await failure(
      api.call('image.add', { path: join(t.home, 'images', made.iso!.id, 'image.iso') }),
    );
    expect(own.code).toBe('INVALID_INPUT');
    expect((await images()).length).toBe(before);
  });
});

describe('OVA imports', () => {
  let disk: Buffer;
  let good: Buffer;

  beforeAll(async () => {
    qemuImg(
      'convert',
      '-f',
      'raw',
      '-O',
      'vmdk',
      '-o',
      'subformat=streamOptimized',
      f('tiny.img'),
      f('ova-disk.vmdk'),
    );
    disk = readFileSync(f('ova-disk.vmdk'));
    // A second, empty data disk, as appliances often have.
    qemuImg('create', '-f', 'vmdk', '-o', 'subformat=streamOptimized', f('ova-data.vmdk'), '8M');
    const data = readFileSync(f('ova-data.vmdk'));
    const desc = Buffer.from(
      ovf('appliance-disk1.vmdk', disk.length, { file: 'appliance-disk2.vmdk', size: data.length }),
    );
    good = await tarOf([
      { name: 'appliance.ovf', body: desc },
      {
        name: 'appliance.mf',
        body: manifest([
          ['appliance.ovf', desc],
          ['appliance-disk1.vmdk', disk],
          ['appliance-disk2.vmdk', data],
        ]),
      },
      { name: 'appliance-disk1.vmdk', body: disk },
      { name: 'appliance-disk2.vmdk', body: data },
    ]);
    writeFileSync(f('appliance.ova'), good);
  });

  it('imports an OVA as VMware writes it into a VM with its settings, and boots it', async () => {
    const r = (await api.call('image.importOva', { path: f('appliance.ova') })) as {
      vm: VmConfig;
      image: ImageMeta;
      notHonoured: string[];
    };
    expect(r.vm).toMatchObject({ name: 'appliance', cpus: 1, memoryMiB: 320, firmware: 'bios' });
    expect(r.notHonoured).toEqual(['NIC model vmxnet3: virtio is used instead']);
    expect(r.image.source.originalFormat).toBe('vmdk');
    expect(readdirSync(join(t.home, 'images')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
    // Both disks: each the VM's own overlay on its library image.
    expect(r.vm.disks.map((d) => d.id)).toEqual(['disk0', 'disk1']);
    const data = (await images()).find((i) => i.name === 'appliance-appliance-disk2.vmdk')!;
    expect(data.virtualSize).toBe(8 << 20);
    expect(qcow2Backing(join(engine.paths(r.vm.id).vmDir, 'disk1.qcow2'))).toBe(
      join(t.home, 'images', data.id, 'image.qcow2'),
    );
    await bootToReady(r.vm);
  }, 240_000);

  it('refuses hostile archives and leaves nothing behind', async () => {
    const desc = Buffer.from(ovf('d.vmdk', disk.length));
    const cases: [string, Buffer, RegExp][] = [
      ['traversal', await tarOf([{ name: '../evil.ovf', body: desc }]), /leaves the import folder/],
      ['absolute', await tarOf([{ name: '/tmp/evil.ovf', body: desc }]), /leaves the import folder/],
      [
        'link',
        await tarOf([
          { name: 'a.ovf', body: desc },
          { name: 'd.vmdk', type: 'symlink', linkname: '/etc/shadow' },
        ]),
        /symlink, not a file/,
      ],
      [
        'wrong digest',
        await tarOf([
          { name: 'a.ovf', body: desc },
          { name: 'a.mf', body: manifest([['d.vmdk', Buffer.from('other')]]) },
          { name: 'd.vmdk', body: disk },
        ]),
        /does not match the OVA's manifest/,
      ],
      ['truncated', good.subarray(0, Math.floor(good.length / 2)), /truncated|could not be read/],
    ];
    // A member that declares a petabyte (base-256 size field, as GNU tar writes huge files).
    const huge = Buffer.from(await tarOf([{ name: 'big.vmdk', body: Buffer.alloc(0) }]));
    huge.fill(0, 124, 136);
    huge[124] = 0x80;
    huge.writeBigUInt64BE(2n ** 50n, 128);
    huge.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += huge[i]!;
    huge.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    cases.push(['huge', huge, /declares .* more than the .* free/]);
    const before = (await images()).length;
    for (const [name, body, message] of cases) {
      writeFileSync(f(`${name}.ova`), body);
      const err = await failure(api.call('image.importOva', { path: f(`${name}.ova`) }));
      expect(err.message, name).toMatch(message);
    }
    expect((await images()).length).toBe(before);
    expect(readdirSync(join(t.home, 'images')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(t.home, 'images', 'evil.ovf'))).toBe(false);
    expect(existsSync('/tmp/evil.ovf')).toBe(false);
    truncateSync(f('truncated.ova'), 0);
  });
});
