// The guest agent's features as engine operations on a VM: its address, running a command, and
// copying files in and out (in chunks, with progress, checked by size and SHA-256 at the end).
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import type { VmConfig } from '../../../shared/vm';
import type { CopyResult, VmAddress } from '../../../shared/api-types';
import type { EngineContext } from '../context';
import { checkHostPath } from '../policy/paths';
import {
  addressOf,
  closeGuestFile,
  FILE_CHUNK,
  guestExec,
  openGuestFile,
  readGuestChunk,
  writeGuestChunk,
  type ExecOptions,
  type ExecResult,
} from './guest';

function requireRunning(engine: EngineContext, config: VmConfig): void {
  const s = engine.runtime(config.id).state;
  if (s !== 'running')
    throw new HangarError(
      'CONFLICT',
      `"${config.name}" is ${s}; the guest agent answers only while it runs.`,
    );
}

/**
 * A guest without an agent (most ISOs, a guest still booting) answers nothing: say so after a
 * short sync instead of letting each command wait out its own, longer timeout.
 */
async function requireAgent(engine: EngineContext, config: VmConfig): Promise<void> {
  requireRunning(engine, config);
  if (!(await engine.agent(config.id).ping(3_000)))
    throw new HangarError(
      'TIMEOUT',
      `No guest agent answers in "${config.name}". Install qemu-guest-agent in the guest (cloud ` +
        'images have it), or wait until it has booted (hangar wait VM --for agent).',
    );
}

export function sshOf(config: VmConfig): VmAddress['ssh'] {
  const f = config.nics
    .flatMap((n) => n.portForwards)
    .find((p) => p.protocol === 'tcp' && p.guestPort === 22);
  return f ? { host: '127.0.0.1', port: f.hostPort, user: config.cloudInit?.user ?? null } : null;
}

/** The guest's address on its first NIC, as its agent reports it (null fields when unknown). */
export async function vmAddress(engine: EngineContext, ref: string, timeoutMs = 5_000): Promise<VmAddress> {
  const config = engine.resolve(ref);
  await requireAgent(engine, config);
  const nic = config.nics[0];
  const found = nic ? await addressOf(engine.agent(config.id), nic.mac, timeoutMs) : null;
  return {
    ipv4: found?.ipv4 ?? null,
    ipv6: found?.ipv6 ?? null,
    interface: found?.interface ?? null,
    ssh: sshOf(config),
  };
}

export async function vmExec(
  engine: EngineContext,
  ref: string,
  command: string,
  options: ExecOptions,
): Promise<ExecResult> {
  const config = engine.resolve(ref);
  await requireAgent(engine, config);
  return guestExec(engine.agent(config.id), command, options);
}

function guestPathOk(path: string): string {
  if (!path.startsWith('/') || path.includes('\0') || path.length > 4096)
    throw new HangarError('INVALID_INPUT', `The guest path must be absolute: "${path}".`);
  return path;
}

/** The SHA-256 of a file in the guest, by its own sha256sum (coreutils). */
async function guestSha256(engine: EngineContext, id: string, path: string): Promise<string | null> {
  try {
    const r = await guestExec(engine.agent(id), 'sha256sum', { args: ['--', path], timeoutMs: 120_000 });
    const m = /^([0-9a-f]{64})\s/.exec(r.stdout.toString('latin1'));
    return r.exitCode === 0 && m ? m[1]! : null;
  } catch {
    return null;
  }
}

/** Host to guest: a file the user picked, written in the guest in chunks, then checked. */
export async function copyIn(
  engine: EngineContext,
  ref: string,
  hostPath: string,
  guestPath: string,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<CopyResult> {
  const config = engine.resolve(ref);
  await requireAgent(engine, config);
  const source = checkHostPath(engine.policy, hostPath, 'file to copy').path;
  const agent = engine.agent(config.id);
  const fd = openSync(source, 'r');
  const hash = createHash('sha256');
  let done = 0;
  try {
    const total = fstatSync(fd).size;
    const handle = await openGuestFile(agent, guestPathOk(guestPath), 'w');
    try {
      const buf = Buffer.alloc(FILE_CHUNK);
      for (;;) {
        const n = readSync(fd, buf, 0, FILE_CHUNK, done);
        if (n === 0) break;
        const chunk = buf.subarray(0, n);
        await writeGuestChunk(agent, handle, chunk);
        hash.update(chunk);
        done += n;
        onProgress(done, total);
      }
    } finally {
      await closeGuestFile(agent, handle);
    }
  } finally {
    closeSync(fd);
  }
  const sha256 = hash.digest('hex');
  const theirs = await guestSha256(engine, config.id, guestPath);
  if (theirs !== null && theirs !== sha256)
    throw new HangarError(
      'IO_ERROR',
      `The copy in the guest differs (SHA-256 ${theirs}, expected ${sha256}).`,
    );
  return { bytes: done, sha256, verified: theirs !== null };
}

/**
 * Guest to host: read in chunks into a temporary file beside the target, checked, then renamed
 * into place. Never into Hangar's own data, never over something that is not a regular file.
 */
export async function copyOut(
  engine: EngineContext,
  ref: string,
  guestPath: string,
  hostPath: string,
  onProgress: (done: number) => void = () => undefined,
): Promise<CopyResult> {
  const config = engine.resolve(ref);
  await requireAgent(engine, config);
  const dir = checkHostDir(engine, dirname(hostPath));
  const target = join(dir, basename(hostPath));
  if (existsSync(target)) checkHostPath(engine.policy, target, 'file to copy');
  const agent = engine.agent(config.id);
  const tmp = join(dir, `.${basename(hostPath)}.${randomBytes(4).toString('hex')}.part`);
  const fd = openSync(tmp, 'wx', 0o600);
  const hash = createHash('sha256');
  let done = 0;
  try {
    const handle = await openGuestFile(agent, guestPathOk(guestPath), 'r');
    try {
      for (;;) {
        const { data, eof } = await readGuestChunk(agent, handle);
        if (data.length) {
          writeSync(fd, data);
          hash.update(data);
          done += data.length;
          onProgress(done);
        }
        if (eof || data.length === 0) break;
      }
    } finally {
      await closeGuestFile(agent, handle);
    }
    closeSync(fd);
    const sha256 = hash.digest('hex');
    const theirs = await guestSha256(engine, config.id, guestPath);
    if (theirs !== null && theirs !== sha256)
      throw new HangarError(
        'IO_ERROR',
        `The file changed in the guest while it was copied (SHA-256 differs).`,
      );
    renameSync(tmp, target);
    return { bytes: done, sha256, verified: theirs !== null };
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** A folder to write into: real, a directory, and not Hangar's own data. */
function checkHostDir(engine: EngineContext, dir: string): string {
  const probe = join(dir, '.');
  for (const root of engine.policy.protectedRoots)
    if (probe === root || probe.startsWith(`${root}/`))
      throw new HangarError('INVALID_INPUT', `${dir} is inside Hangar's own data; copy somewhere else.`);
  try {
    checkHostPath(engine.policy, dir, 'file to copy');
  } catch (err) {
    // A directory is what is wanted here; anything else the policy says stands.
    if (!(err instanceof HangarError && /is a directory/.test(err.message))) throw err;
    return realpathSync(dir);
  }
  throw new HangarError('INVALID_INPUT', `${dir} is not a directory.`);
}
