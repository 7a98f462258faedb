// The software TPM: one swtpm per VM, on a UNIX socket in the VM's runtime dir, with its state
// in the VM's directory. --terminate makes it exit when QEMU disconnects.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HangarError } from '../../../shared/errors';
import type { VmPaths } from '../config/paths';
import { sleep } from './instance';
import { spawnPrivate } from './private';

export async function startSwtpm(swtpm: string, paths: VmPaths): Promise<void> {
  const stateDir = join(paths.vmDir, 'tpm');
  // swtpm splits its options at commas and has no escape for them.
  if (stateDir.includes(',') || paths.tpmSocket.includes(',')) {
    throw new HangarError(
      'UNSUPPORTED',
      'swtpm cannot use a path with a comma; move HANGAR_HOME to a path without one.',
    );
  }
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const args = [
    'socket',
    '--tpm2',
    '--daemon',
    '--terminate',
    '--tpmstate',
    `dir=${stateDir}`,
    '--ctrl',
    // swtpm sets the socket's mode itself (0770 by default), whatever the umask.
    `type=unixio,path=${paths.tpmSocket},mode=0600`,
    '--pid',
    `file=${paths.tpmPidFile}`,
    '--log',
    `file=${join(paths.vmDir, 'swtpm.log')}`,
  ];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawnPrivate(swtpm, args, { stdio: 'ignore' });
    child.on('error', () => resolve(-1));
    child.on('exit', (c) => resolve(c));
  });
  if (code !== 0)
    throw new HangarError(
      'QEMU_FAILED',
      `swtpm failed to start (exit ${code}); see ${join(paths.vmDir, 'swtpm.log')}.`,
    );
  for (let i = 0; i < 100 && !existsSync(paths.tpmSocket); i++) await sleep(20);
}
