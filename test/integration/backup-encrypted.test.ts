// Encrypted backups against real QEMU: LUKS qcow2 images and sealed small files, the key asked
// for where it is needed, a wrong key refused with a clear error and nothing made, incrementals
// on the encrypted chain, a restore that boots with the data, full verify, and a prune that
// rewrites an encrypted point in place of the one it removes.
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readKey } from '../../src/main/engine/backup/crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Engine } from '../../src/main/engine/engine';
import { createBackup, pruneBackups, restoreBackup, verifyBackup } from '../../src/main/engine/backup';
import { closeEngine, openEngine, tempHome } from '../support/env';
import { makeGuestVm, shell } from '../support/vms';
import type { SerialConsole } from '../../src/main/engine/consoles/serial';
import type { BackupResult } from '../../src/shared/backup';

const t = tempHome('hangar-bk-enc-');
let engine: Engine;
let vmId: string;
let sh: SerialConsole;
const vms: string[] = [];
const key = Buffer.from('correct horse battery staple');
const wrong = Buffer.from('correct horse battery stapler');
let full: BackupResult;
let inc: BackupResult;

beforeAll(async () => {
  engine = await openEngine(t);
  vmId = (await makeGuestVm(engine, 'enc-src', { disk: { kind: 'new', size: '128M' }, tpm: true })).id;
  vms.push(vmId);
  await engine.start(vmId);
  sh = await shell(engine, vmId, 120_000);
});
afterAll(async () => {
  sh?.close();
  for (const id of vms) if (!engine.isStopped(id)) await engine.stop(id, { force: true });
  await closeEngine(engine, t);
});

async function guest(command: string): Promise<string> {
  const r = await sh.run(command, 60_000);
  expect(r.status, r.output).toBe(0);
  return r.output;
}

async function bootAndRead(id: string, command: string): Promise<string> {
  vms.push(id);
  await engine.start(id);
  const s = await shell(engine, id, 120_000);
  try {
    const r = await s.run(command, 60_000);
    expect(r.status, r.output).toBe(0);
    return r.output;
  } finally {
    s.close();
    await engine.stop(id, { force: true });
  }
}

it('writes LUKS images and sealed small files; nothing of the guest is readable in the repository', async () => {
  await guest('for i in $(seq 2000); do echo TOPSECRET-MARK-$i; done > /mnt/disk/secret && sync');
  full = await createBackup(engine, vmId, { key });
  expect(full).toMatchObject({ kind: 'full', encrypted: true });
  const info = (await engine.img.info(join(full.dir, 'disk0.qcow2'), 'qcow2')) as { encrypted?: boolean };
  expect(info.encrypted).toBe(true);
  for (const f of ['disk0.qcow2', 'vm.json'])
    expect(readFileSync(join(full.dir, f)).includes('TOPSECRET-MARK')).toBe(false);
  expect(readFileSync(join(full.dir, 'vm.json')).subarray(0, 7).toString()).toBe('HGSEAL1');
  const tpm = readdirSync(join(full.dir, 'tpm'));
  expect(tpm.length).toBeGreaterThan(0);
  const manifest = JSON.parse(readFileSync(join(full.dir, 'manifest.json'), 'utf8')) as {
    encryption: { format: string; salt: string };
  };
  expect(manifest.encryption).toEqual({ format: 'luks', salt: expect.stringMatching(/^[0-9a-f]{32}$/) });
  // The key went to the running QEMU over QMP: its QMP log has no trace of it.
  const qmpLog = readFileSync(join(engine.paths(vmId).vmDir, 'qmp.log'), 'utf8');
  expect(qmpLog).toContain('(a secret: not logged)');
  expect(qmpLog.includes(key.toString('base64')) || qmpLog.includes(key.toString())).toBe(false);
  // quick verify reads hashes only: no key needed.
  expect((await verifyBackup(engine, full.id)).ok).toBe(true);
});

it('asks for the key for the next point, refuses a wrong one, and continues the chain with the right one', async () => {
  await guest('echo later-data > /mnt/disk/later && sync');
  await expect(createBackup(engine, vmId)).rejects.toThrow(/are encrypted: give their key/);
  await expect(createBackup(engine, vmId, { key: wrong })).rejects.toThrow(/key does not open/);
  inc = await createBackup(engine, vmId, { key });
  expect(inc).toMatchObject({ kind: 'incremental', parent: full.id, encrypted: true });
  expect((await verifyBackup(engine, inc.id, { mode: 'full', key })).ok).toBe(true);
  await expect(verifyBackup(engine, inc.id, { mode: 'full' })).rejects.toThrow(/is encrypted: give its key/);
});

it('restores only with the right key, and the new VM boots with the data and the TPM state', async () => {
  const before = engine.list().length;
  await expect(restoreBackup(engine, inc.id, 'enc-nokey')).rejects.toThrow(/is encrypted: give its key/);
  await expect(restoreBackup(engine, inc.id, 'enc-wrong', { key: wrong })).rejects.toThrow(
    /key does not open/,
  );
  expect(engine.list().length).toBe(before);
  const sums = await guest('md5sum /mnt/disk/secret; cat /mnt/disk/later');
  const restored = await restoreBackup(engine, inc.id, 'enc-restored', { key });
  expect(restored.tpm).toBe(true);
  const tpmFile = readdirSync(join(engine.paths(vmId).vmDir, 'tpm')).find((f) => f.endsWith('.permall'))!;
  expect(readFileSync(join(engine.paths(restored.id).vmDir, 'tpm', tpmFile))).toEqual(
    readFileSync(join(engine.paths(vmId).vmDir, 'tpm', tpmFile)),
  );
  expect(await bootAndRead(restored.id, 'md5sum /mnt/disk/secret; cat /mnt/disk/later')).toBe(sums);
});

it('prunes the full away only with the key, and the kept point still restores what it held', async () => {
  await expect(pruneBackups(engine, vmId, { last: 1 })).rejects.toThrow(/encrypted and built on/);
  const r = await pruneBackups(engine, vmId, { last: 1 }, { key });
  expect(r).toMatchObject({ removed: [full.id], kept: [inc.id] });
  expect((await verifyBackup(engine, inc.id, { mode: 'full', key })).ok).toBe(true);
  const again = await restoreBackup(engine, inc.id, 'enc-after-prune', { key });
  expect(await bootAndRead(again.id, 'cat /mnt/disk/later; grep -c TOPSECRET-MARK /mnt/disk/secret')).toMatch(
    /later-data\s+2000/,
  );
  // Leaving encryption is deliberate (a full), and said.
  const plain = await createBackup(engine, vmId, { full: true });
  expect(plain).toMatchObject({
    encrypted: false,
    warning: expect.stringMatching(/so far are encrypted; this full one/),
  });
  // A key file of random bytes (as `dd if=/dev/urandom` makes one) works as well as a passphrase.
  const keyFile = join(t.files, 'backup.key');
  writeFileSync(keyFile, randomBytes(64));
  const fileSecret = readKey({ keyFile })!;
  const sealed = await createBackup(engine, vmId, { key: fileSecret });
  expect(sealed).toMatchObject({ kind: 'full', encrypted: true });
  const fromFile = await restoreBackup(engine, sealed.id, 'enc-keyfile', { key: readKey({ keyFile }) });
  expect(fromFile.disks.map((d) => d.id)).toContain('disk0');
});
