// `hangar image` and `hangar os` as a user types them, each a new process: add and list, a VM
// from a library image with --image, an OS variant's defaults, rm refused while in use, verify,
// and the errors a script sees (exit codes, --json).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { serveFiles, type FileServer } from '../support/file-server';
import { manifest, ovf, tarOf } from '../support/ova';
import { guest } from '../support/guest';
import { tempHome } from '../support/env';
import { hangar, requireBuild } from '../support/cli';

const t = tempHome('hangar-imgcli-');
const env = { ...t.env, NO_COLOR: '1' };
const vdi = join(t.files, 'tiny.vdi');

let server: FileServer;
let proxy: Server;
/** What the proxy was asked for: absolute URIs, as clients send them to a forward proxy. */
const proxied: string[] = [];

beforeAll(async () => {
  requireBuild();
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'vdi', guest().iso, vdi]);
  const pub = join(t.files, 'pub.qcow2');
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', guest().iso, pub]);
  const digest = createHash('sha256').update(readFileSync(pub)).digest('hex');
  writeFileSync(join(t.files, 'SHA256SUMS'), `${digest}  pub.qcow2\n`);
  server = await serveFiles({ '/pub.qcow2': pub, '/SHA256SUMS': join(t.files, 'SHA256SUMS') });
  // A forward proxy: CONNECT tunnels (how undici reaches any target through a proxy), and plain
  // GET http://host/path relayed for clients that send those.
  proxy = createServer((req, res) => {
    proxied.push(req.url ?? '');
    const target = new URL(req.url ?? '');
    const up = request(target, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  proxy.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    proxied.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const up = connect(Number(port), host!, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  writeFileSync(
    join(t.home, 'catalog.json'),
    JSON.stringify([
      {
        id: 'tiny',
        name: 'The tiny guest as a cloud download',
        kind: 'cloud',
        format: 'qcow2',
        url: `${server.url}/pub.qcow2`,
        checksums: { url: `${server.url}/SHA256SUMS` },
      },
    ]),
  );
});
afterAll(async () => {
  await server?.close();
  proxy?.close();
  t.cleanup();
});

describe('hangar image and hangar os', () => {
  let id = '';

  it('adds a vdi (converted and compared), lists it, and makes a linked clone with --image', async () => {
    const add = await hangar(env, ['image', 'add', vdi, '--name', 'tiny', '--json']);
    expect(add.code).toBe(0);
    const meta = JSON.parse(add.stdout) as { id: string; format: string; source: { originalFormat: string } };
    expect(meta).toMatchObject({ format: 'qcow2', source: { originalFormat: 'vdi' } });
    id = meta.id;
    const list = await hangar(env, ['image', 'list']);
    expect(list.stdout).toContain(`${id.slice(0, 12)}  tiny  qcow2`);
    const create = await hangar(env, [
      'create',
      '--name',
      'on-tiny',
      '--image',
      'tiny',
      '--os-variant',
      'debian11',
      '--no-network',
      '--json',
    ]);
    expect(create.code).toBe(0);
    // osinfo's recommendation for Debian 11 (1 GiB), within half this host's memory.
    const vm = JSON.parse(create.stdout) as {
      memoryMiB: number;
      osType: string;
      disks: { owned: boolean }[];
    };
    expect(vm.osType).toBe('linux');
    expect(vm.memoryMiB).toBeGreaterThan(0);
    expect(vm.memoryMiB).toBeLessThanOrEqual(1024);
    expect(vm.disks[0]!.owned).toBe(true);
    expect((await hangar(env, ['image', 'list'])).stdout).toContain('used by on-tiny');
  });

  it('refuses to remove an image in use (exit 4, naming the VM), then removes it once unused', async () => {
    const rm = await hangar(env, ['image', 'rm', 'tiny']);
    expect(rm.code).toBe(4);
    expect(rm.stderr).toMatch(/used by on-tiny/);
    expect((await hangar(env, ['delete', 'on-tiny', '--yes'])).code).toBe(0);
    expect((await hangar(env, ['image', 'verify'])).stdout).toMatch(/^ok\s+/);
    const gone = await hangar(env, ['image', 'rm', id.slice(0, 8)]);
    expect(gone.code).toBe(0);
    expect(gone.stdout).toContain('Removed tiny');
    expect((await hangar(env, ['image', 'rm', 'tiny'])).code).toBe(3);
  });

  it('searches and shows OSes from osinfo-db, and refuses an unknown variant with exit 2', async () => {
    const search = await hangar(env, ['os', 'search', 'debian']);
    expect(search.stdout).toMatch(/^debian11\s+Debian 11$/m);
    const show = await hangar(env, ['os', 'show', 'win10']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/family winnt/);
    expect(show.stdout).toMatch(/virtio: no/);
    expect((await hangar(env, ['os', 'show', 'nosuchos'])).code).toBe(3);
    const bad = await hangar(env, ['create', '--name', 'x', '--os-variant', 'nosuchos', '--no-disk']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/hangar os search/);
    const both = await hangar(env, ['create', '--name', 'x', '--os', 'linux', '--os-variant', 'debian11']);
    expect(both.code).toBe(2);
  });

  it('pulls through the proxy the environment names, and makes a VM from the download', async () => {
    const port = (proxy.address() as AddressInfo).port;
    const viaProxy = { ...env, HTTP_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: '' };
    const pull = await hangar(viaProxy, ['image', 'pull', 'tiny']);
    expect(pull.code).toBe(0);
    expect(pull.stdout).toMatch(/sha256 verified against/);
    // Every request of the pull went through the proxy, to the server's address.
    const target = new URL(server.url).host;
    expect(proxied.length).toBeGreaterThan(0);
    expect(proxied.every((p) => p === `CONNECT ${target}` || p.startsWith(server.url))).toBe(true);
    const vm = await hangar(env, ['create', '--name', 'pulled', '--image', 'tiny', '--no-network']);
    expect(vm.code).toBe(0);
  });

  it('shows what an OVA would make before importing it, then imports it as a VM', async () => {
    const vmdk = join(t.files, 'a.vmdk');
    execFileSync('qemu-img', [
      'convert',
      '-f',
      'raw',
      '-O',
      'vmdk',
      '-o',
      'subformat=streamOptimized',
      guest().iso,
      vmdk,
    ]);
    const disk = readFileSync(vmdk);
    const desc = Buffer.from(ovf('appliance-disk1.vmdk', disk.length));
    const ova = join(t.files, 'appliance.ova');
    writeFileSync(
      ova,
      await tarOf([
        { name: 'appliance.ovf', body: desc },
        {
          name: 'appliance.mf',
          body: manifest([
            ['appliance.ovf', desc],
            ['appliance-disk1.vmdk', disk],
          ]),
        },
        { name: 'appliance-disk1.vmdk', body: disk },
      ]),
    );
    const plan = await hangar(env, ['image', 'import', ova, '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/Would import VM "appliance": 1 CPU, 320 MiB, bios/);
    expect(plan.stdout).toMatch(/vmxnet3: virtio is used instead/);
    expect((await hangar(env, ['list'])).stdout).not.toContain('appliance');
    const done = await hangar(env, ['image', 'import', ova, '--name', 'from-ova']);
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/VM "from-ova"/);
    expect((await hangar(env, ['list'])).stdout).toContain('from-ova');
  });

  it('lists the catalog and says what is wrong with a bad pull or a missing file', async () => {
    const cat = await hangar(env, ['image', 'catalog']);
    expect(cat.stdout).toMatch(/^debian-12\s+cloud/m);
    expect(cat.stdout).toMatch(/^tiny\s+cloud.*\(pulled\)/m);
    const pull = await hangar(env, ['image', 'pull', 'no-such', '--json']);
    expect(pull.code).toBe(3);
    expect(JSON.parse(pull.stdout)).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    const missing = await hangar(env, ['image', 'add', join(t.files, 'nothing.qcow2')]);
    expect(missing.code).toBe(3);
  });
});
