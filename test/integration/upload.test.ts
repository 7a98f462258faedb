// A file dropped on the browser UI: found in place by its name, size and time (host.findDropped),
// or uploaded into ~/Downloads through the host server (src/main/server/upload.ts), which only our
// page may do, never overwrites, and never leaves half a file behind.
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../src/main/api/dispatch';
import { Engine } from '../../src/main/engine/engine';
import { startHostServer, type HostServer } from '../../src/main/server';
import { makeIso } from '../support/iso';

const root = mkdtempSync(join(tmpdir(), 'hangar-upload-'));
const home = join(root, 'user');
const downloads = join(home, 'Downloads');
const runtime = mkdtempSync('/tmp/hu-');
const iso = join(downloads, 'tiny.iso');
let engine: Engine;
let server: HostServer;
let dispatcher: ReturnType<typeof createDispatcher>;
let origin: string;

beforeAll(async () => {
  mkdirSync(downloads, { recursive: true });
  makeIso(iso);
  const hangarHome = join(home, '.local', 'share', 'hangar');
  engine = await Engine.open({
    home: hangarHome,
    env: {
      ...process.env,
      HOME: home,
      HANGAR_HOME: hangarHome,
      HANGAR_RUNTIME_DIR: runtime,
      HANGAR_ACCEL: 'tcg',
    },
  });
  // One dispatcher, so the grants the upload makes are the ones the API takes.
  dispatcher = createDispatcher(engine);
  server = await startHostServer({ dispatcher });
  origin = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(runtime, { recursive: true, force: true });
});

interface Reply {
  status: number;
  json: {
    ok: boolean;
    file?: { grant: string; name: string; path: string };
    error?: { message: string };
  } | null;
}

/** A PUT to the upload endpoint; `send` writes the body (default: all of it, with its length). */
function put(
  name: string,
  body: Buffer,
  headers: Record<string, string | undefined> = {},
  send?: (req: ReturnType<typeof request>) => void,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: 'PUT',
        path: `${server.basePath}upload?name=${encodeURIComponent(name)}`,
        headers: Object.fromEntries(
          Object.entries({
            Host: `127.0.0.1:${server.port}`,
            Origin: origin,
            Cookie: `hangar_token=${server.token}`,
            'Content-Length': String(body.length),
            ...headers,
          }).filter(([, v]) => v !== undefined),
        ),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: Reply['json'];
          try {
            json = JSON.parse(text) as Reply['json'];
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    if (send) send(req);
    else req.end(body);
  });
}

const listed = () => readdirSync(downloads).sort();

describe('a dropped file', () => {
  it('is found where it lies by its name, size and time, and only then', async () => {
    const api = createDispatcher(engine);
    const st = statSync(iso);
    const found = (await api.call(
      'host.findDropped',
      { name: 'tiny.iso', size: st.size, modifiedMs: Math.floor(st.mtimeMs) },
      'renderer',
    )) as { path: string; grant?: string };
    expect(found.path).toBe(iso);
    expect(found.grant).toMatch(/\S/);
    // Another time or size is another file: the page uploads it instead.
    for (const other of [
      { size: st.size, modifiedMs: st.mtimeMs - 5000 },
      { size: st.size + 1, modifiedMs: st.mtimeMs },
    ])
      expect(await api.call('host.findDropped', { name: 'tiny.iso', ...other }, 'renderer')).toBeNull();
    // Only a plain name: no way up and out of the folders searched.
    for (const name of ['notes.txt', '../user/Downloads/tiny.iso', `..${'/..'.repeat(8)}${iso}`, '.tiny.iso'])
      await expect(
        api.call('host.findDropped', { name, size: st.size, modifiedMs: st.mtimeMs }, 'renderer'),
      ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    // Never a disk (a grant would let a VM write it), nor a file outside Downloads, even when the
    // name, size and time match: those are uploaded as copies.
    const disk = join(downloads, 'work.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '1M']);
    copyFileSync(iso, join(home, 'home.iso'));
    for (const path of [disk, join(home, 'home.iso')]) {
      const s = statSync(path);
      const name = path.slice(path.lastIndexOf('/') + 1);
      expect(
        await api.call('host.findDropped', { name, size: s.size, modifiedMs: s.mtimeMs }, 'renderer'),
      ).toBeNull();
    }
    rmSync(disk);
  });

  it('is uploaded into Downloads under a free name, byte for byte, with a grant', async () => {
    const bytes = readFileSync(iso);
    const r = await put('tiny.iso', bytes);
    expect(r.status).toBe(200);
    expect(r.json!.file).toMatchObject({ name: 'tiny (1).iso', path: join(downloads, 'tiny (1).iso') });
    expect(r.json!.file!.grant).toMatch(/\S/);
    expect(readFileSync(join(downloads, 'tiny (1).iso')).equals(bytes)).toBe(true);
    // The file that was there first is untouched.
    expect(readFileSync(iso).equals(bytes)).toBe(true);
    expect(listed()).toEqual(['tiny (1).iso', 'tiny.iso']);
  });

  it('is refused to anyone but our page, and for names that are not plain files of a known kind', async () => {
    const before = listed();
    const body = Buffer.from('x');
    expect((await put('a.iso', body, { Origin: 'http://evil.example' })).status).toBe(403);
    expect((await put('a.iso', body, { Origin: undefined })).status).toBe(403);
    expect((await put('a.iso', body, { Cookie: undefined })).status).toBe(401);
    for (const name of ['../a.iso', '.hidden.iso', 'notes.txt', 'disk.vmdk', 'a\nb.iso']) {
      const r = await put(name, body);
      expect(r.status, name).toBe(400);
      expect(r.json!.error!.message).toMatch(/plain name|not an ISO|Library page/);
    }
    const chunked = await put('a.iso', body, { 'Content-Length': undefined, 'Transfer-Encoding': 'chunked' });
    expect(chunked.status).toBe(411);
    expect(listed()).toEqual(before);
  });

  it('gives a VM no file through an uploaded image that names another (a qcow2 data file)', async () => {
    // What a hostile page could upload: an image whose data is the user's secret key.
    const secret = join(home, '.ssh', 'id_ed25519');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(secret, 'PRIVATE KEY\n');
    const made = join(root, 'evil.qcow2');
    execFileSync('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-o',
      `data_file=${secret},data_file_raw=on`,
      made,
      '1M',
    ]);
    const r = await put('evil.qcow2', readFileSync(made));
    const api = dispatcher;
    const create = r.json?.file
      ? api.call(
          'vm.create',
          { name: 'evil', disk: { kind: 'existing', path: r.json.file.grant }, iso: null },
          'renderer',
        )
      : Promise.reject(new Error(r.json?.error?.message ?? 'no grant'));
    await expect(create).rejects.toThrow(/keeps its data in another file/);
    expect(engine.list().map((v) => v.name)).not.toContain('evil');
    rmSync(join(downloads, 'evil.qcow2'), { force: true });
  });

  it('leaves nothing behind when the upload breaks off', async () => {
    const before = listed();
    let partial: string[] = [];
    await put('broken.iso', Buffer.alloc(1 << 20), { 'Content-Length': String(4 << 20) }, (req) => {
      req.write(Buffer.alloc(1 << 20));
      setTimeout(() => {
        // Half way: the bytes so far sit in a hidden file beside the target, never under its name.
        partial = listed().filter((f) => !before.includes(f));
        req.destroy();
      }, 300);
    }).catch(() => null);
    expect(partial).toHaveLength(1);
    expect(partial[0]).toMatch(/^\.broken\.iso\.hangar-upload-[0-9a-f]+$/);
    // The server notices the reset and removes it.
    for (let i = 0; i < 50 && listed().length !== before.length; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(listed()).toEqual(before);
  });
});
