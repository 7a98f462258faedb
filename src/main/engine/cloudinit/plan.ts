// Filling in what a cloud-image VM tells cloud-init, from the request and the host: the user,
// the SSH keys (the user's own, and always Hangar's key for `hangar ssh` and readiness checks),
// a hashed password, the hostname, a new instance-id and a free host port for SSH.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HangarError } from '../../../shared/errors';
import type { CloudInitRequest } from '../../../shared/requests';
import { LinuxUserName, SshPublicKey, type CloudInit } from '../../../shared/vm';
import { hostnameFor } from './user-data';

const run = promisify(execFile);

export function newInstanceId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `i-${Array.from(randomBytes(16), (b) => alphabet[b % alphabet.length]).join('')}`;
}

/** Hangar's own key pair, made once per home with ssh-keygen (like Lima's per-user key). */
export async function hangarKey(home: string): Promise<{ privateKey: string; publicKey: string }> {
  const dir = join(home, 'ssh');
  const privateKey = join(dir, 'id_ed25519');
  if (!existsSync(privateKey)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hangar', '-f', privateKey]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new HangarError(
          'UNSUPPORTED',
          'Cloud images need ssh-keygen: sudo apt-get install openssh-client.',
        );
      throw err;
    }
  }
  return { privateKey, publicKey: readFileSync(`${privateKey}.pub`, 'utf8').trim() };
}

/** The user's public keys in ~/.ssh, those that parse as keys, with their file names. */
export function userKeyFiles(env: NodeJS.ProcessEnv): { file: string; key: string }[] {
  const dir = join(env.HOME || homedir(), '.ssh');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pub'))
    .sort()
    .flatMap((file) => {
      try {
        const key = readFileSync(join(dir, file), 'utf8').trim();
        return SshPublicKey.safeParse(key).success ? [{ file, key }] : [];
      } catch {
        return [];
      }
    });
}

export function userKeys(env: NodeJS.ProcessEnv): string[] {
  return userKeyFiles(env).map((k) => k.key);
}

export function defaultUser(): string {
  const name = userInfo().username.toLowerCase();
  return LinuxUserName.safeParse(name).success ? name : 'hangar';
}

/** A crypt(3) SHA-512 hash, made by openssl so the password never reaches a file or argv. */
export async function hashPassword(password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('openssl', ['passwd', '-6', '-stdin'], (err, stdout) => {
      if (err)
        reject(new HangarError('UNSUPPORTED', `Could not hash the password with openssl: ${err.message}`));
      else resolve(stdout.trim());
    });
    child.stdin!.end(`${password}\n`);
  });
}

/** A TCP port on 127.0.0.1 that is free now (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function planCloudInit(
  req: CloudInitRequest,
  vm: { name: string; id: string },
  home: string,
  env: NodeJS.ProcessEnv,
): Promise<CloudInit> {
  if (req.password !== undefined && /[\r\n]/.test(req.password))
    throw new HangarError('INVALID_INPUT', 'The password cannot contain a line break.');
  const own = await hangarKey(home);
  const keys = [...new Set([...(req.sshKeys ?? userKeys(env)), own.publicKey])];
  return {
    instanceId: newInstanceId(),
    hostname: hostnameFor(vm.name, vm.id),
    user: req.user ?? defaultUser(),
    sshKeys: keys,
    passwordHash: req.password ? await hashPassword(req.password) : null,
    sshPort: await freePort(),
  };
}
